# HMP2 inputs shared by the scripts in this folder (sourced, not run on its own): complete
# cases of the MaAsLin 2 HMP2 data (1,576 samples), `meta` (diagnosis a factor with reference
# nonIBD), `tax` (relative abundances in the same order), `species`, `fixed` (the formula's
# fixed effects) and `out_dir`.
data_dir <- Sys.getenv("GUTAXIS_SHARED_DATA", "../shared/data")
out_dir <- "tests/reference/glm"
meta <- read.delim(file.path(data_dir, "hmp2", "HMP2_metadata.tsv"), stringsAsFactors = FALSE)
tax <- read.delim(gzfile(file.path(data_dir, "hmp2", "HMP2_taxonomy.tsv.gz")),
                  check.names = FALSE, stringsAsFactors = FALSE)
meta <- meta[complete.cases(meta), ]
tax <- tax[match(meta$ID, tax$ID), ]
stopifnot(identical(tax$ID, meta$ID), nrow(meta) == 1576)
meta$diagnosis <- factor(meta$diagnosis, levels = c("nonIBD", "UC", "CD"))
species <- setdiff(colnames(tax), "ID")
fixed <- "diagnosis + dysbiosisnonIBD + dysbiosisUC + dysbiosisCD + antibiotics + age"

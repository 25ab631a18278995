# Reference outputs for gutaxis.stats.associate on the fibromyalgia cohort (genus level),
# computed the way MaAsLin 2 (1.x, R/utility_scripts.R and R/fit.R) computes them, with
# base R, vegan::decostand and stats::lm / p.adjust. Run from the repository root:
#   Rscript tests/reference/associate/make_fibromyalgia_reference.R ../shared/data/fibromyalgia
# Writes, beside this script:
#   fibromyalgia_genus_transformed.tsv.gz  transformed values (LOG, AST, LOGIT after TSS; CLR)
#   fibromyalgia_genus_lm.tsv.gz           per (model, feature, term): coef, stderr, t, df, p, q
args <- commandArgs(trailingOnly = TRUE)
data_dir <- if (length(args)) args[1] else "../shared/data/fibromyalgia"
out_dir <- "tests/reference/associate"
suppressPackageStartupMessages(library(vegan))

counts <- as.matrix(read.delim(gzfile(file.path(data_dir, "feature-table.tsv.gz")),
                               row.names = 1, check.names = FALSE))
tax <- read.delim(gzfile(file.path(data_dir, "taxonomy.tsv.gz")), row.names = 1,
                  colClasses = "character", check.names = FALSE)
tax[is.na(tax) | tax == "0"] <- ""
ranks <- c(kingdom = "k", phylum = "p", class = "c", order = "o", family = "f", genus = "g")
tax <- tax[rownames(counts), names(ranks)]
lineage <- do.call(paste, c(lapply(names(ranks), function(r) paste0(ranks[[r]], "__", tax[[r]])),
                            sep = ";"))
genus <- t(rowsum(counts, lineage))            # samples x genera
meta <- read.delim(file.path(data_dir, "metadata.tsv"), row.names = 1)
genus <- genus[rownames(meta), , drop = FALSE]

# MaAsLin 2 filters on the input values: present (> 0) in more than 10% of samples, var > 0
n <- nrow(genus)
keep <- colSums(genus > 0) > 0.1 * n & apply(genus, 2, var) > 0
filtered <- genus[, keep]
tss <- as.matrix(decostand(filtered, method = "total", MARGIN = 1))
LOG <- function(x) log2(replace(x, x == 0, min(x[x > 0]) / 2))
AST <- function(x) sign(x) * asin(sqrt(abs(x)))
LOGIT <- function(x) { y <- log(x / (1 - x)); y[!is.finite(y)] <- 0; y }
CLR <- function(m) { l <- log(m + 1); l - rowMeans(l) }
transformed <- list(
  TSS_LOG = apply(tss, 2, LOG), TSS_AST = apply(tss, 2, AST),
  TSS_LOGIT = apply(tss, 2, LOGIT), CLR_NONE = CLR(filtered))
long <- do.call(rbind, lapply(names(transformed), function(k) {
  m <- transformed[[k]]
  data.frame(pipeline = k, sample_id = rep(rownames(m), ncol(m)),
             feature = rep(colnames(m), each = nrow(m)), value = as.vector(m))
}))
write_gz <- function(frame, name) {
  num <- vapply(frame, is.numeric, logical(1))
  frame[num] <- lapply(frame[num], function(x) formatC(x, digits = 17, format = "g"))
  con <- gzfile(file.path(out_dir, name), "w")
  write.table(frame, con, sep = "\t", quote = FALSE, row.names = FALSE)
  close(con)
}
write_gz(long, "fibromyalgia_genus_transformed.tsv.gz")

meta$fm <- relevel(factor(ifelse(meta$group == "ctl", "control", "FM")), ref = "control")
meta$severity <- c(ctl = 0, fbm_12_20 = 1, fbm_21_25 = 2, fbm_26_31 = 3)[meta$group]
meta$covariate_sii <- factor(meta$covariate_sii)
models <- list(
  fm_log = list(y = transformed$TSS_LOG, rhs = "fm + covariate_age + covariate_imc + covariate_sii"),
  severity_log = list(y = transformed$TSS_LOG,
                      rhs = "severity + covariate_age + covariate_imc + covariate_sii"),
  fm_ast = list(y = transformed$TSS_AST, rhs = "fm + covariate_age + covariate_imc + covariate_sii"),
  fm_clr = list(y = transformed$CLR_NONE, rhs = "fm + covariate_age + covariate_imc + covariate_sii"))
results <- do.call(rbind, lapply(names(models), function(name) {
  spec <- models[[name]]
  rows <- do.call(rbind, lapply(colnames(spec$y), function(f) {
    d <- data.frame(expr = spec$y[, f], meta)
    fit <- lm(as.formula(paste("expr ~", spec$rhs)), data = d)
    co <- summary(fit)$coefficients[-1, , drop = FALSE]
    data.frame(model = name, feature = f, term = rownames(co), coef = co[, 1], stderr = co[, 2],
               t = co[, 3], df = fit$df.residual, pval = co[, 4])
  }))
  rows$qval <- p.adjust(rows$pval, method = "BH")
  rows
}))
write_gz(results, "fibromyalgia_genus_lm.tsv.gz")
cat("genera kept:", sum(keep), "of", ncol(genus), "\n")

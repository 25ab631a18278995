# Reference values for tests/gut/test_{alpha,beta,ordination}.py from R's vegan and stats,
# on the fibromyalgia cohort (../shared/data/fibromyalgia, samples x ASV counts).
# Run from the repository root:  Rscript tests/reference/diversity/make_vegan_reference.R
# Made with R 4.x, vegan 2.6-4. Values are written with 17 significant digits.
suppressPackageStartupMessages(library(vegan))
data_dir <- Sys.getenv("GUTAXIS_SHARED_DATA", file.path("..", "shared", "data"))
out_dir <- file.path("tests", "reference", "diversity")
counts <- read.delim(gzfile(file.path(data_dir, "fibromyalgia", "feature-table.tsv.gz")),
                     row.names = 1, check.names = FALSE)
x <- t(as.matrix(counts))  # samples x features

write_tsv <- function(frame, name) {
  con <- gzfile(file.path(out_dir, name), "w")
  write.table(format(frame, digits = 17), con, sep = "\t", quote = FALSE, col.names = NA)
  close(con)
}

alpha <- data.frame(
  observed_features = specnumber(x),
  shannon = diversity(x, "shannon"),
  simpson = diversity(x, "simpson"),
  inverse_simpson = diversity(x, "invsimpson"),
  row.names = rownames(x)
)
alpha$pielou_evenness <- alpha$shannon / log(alpha$observed_features)
write_tsv(alpha, "vegan_alpha.tsv.gz")

bray <- vegdist(x, method = "bray")
write_tsv(as.data.frame(as.matrix(bray)), "vegan_bray.tsv.gz")
write_tsv(as.data.frame(as.matrix(vegdist(x, method = "jaccard", binary = TRUE))),
          "vegan_jaccard_binary.tsv.gz")

# classical scaling of Bray-Curtis: eigenvalues and the first two axes
ordination <- cmdscale(bray, k = 2, eig = TRUE)
write_tsv(data.frame(eigenvalue = ordination$eig), "cmdscale_bray_eigenvalues.tsv.gz")
write_tsv(data.frame(PC1 = ordination$points[, 1], PC2 = ordination$points[, 2],
                     row.names = rownames(x)), "cmdscale_bray_points.tsv.gz")

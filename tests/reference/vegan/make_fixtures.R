# vegan reference outputs for gutaxis.stats.community (PERMANOVA, PERMDISP).
# Run from this folder:  nice Rscript make_fixtures.R
# (after make_distances.py wrote the fibromyalgia matrices). R 4.2.2, vegan 2.6-4,
# permute 0.9-7 (Debian r-cran-vegan, r-cran-permute).
# Each test's permutation matrix is written beside its table (perm_*.tsv, 1-based sample
# positions, one permutation per row), so gutaxis can be run on the very same
# permutations and its p-values compared exactly, besides within Monte-Carlo error.
suppressMessages(library(vegan))
NPERM <- 999

write_tsv <- function(x, file) {
  write.table(x, file, sep = "\t", quote = FALSE, row.names = FALSE, na = "")
}
write_perm <- function(perm, file) {
  write.table(unclass(perm)[, , drop = FALSE], file, sep = "\t", quote = FALSE,
              row.names = FALSE, col.names = FALSE)
}
adonis_table <- function(res) {
  data.frame(term = rownames(res), df = res$Df, sum_of_squares = sprintf("%.17g", res$SumOfSqs),
             r2 = sprintf("%.17g", res$R2), f = sprintf("%.17g", res$F),
             pval = res[["Pr(>F)"]])
}
run_adonis <- function(name, formula, data, by, perm) {
  res <- adonis2(formula, data = data, permutations = perm, by = by)
  write_tsv(adonis_table(res), paste0("adonis2_", name, ".tsv"))
  invisible(res)
}
run_betadisper <- function(name, d, group, type, perm) {
  bd <- betadisper(d, group, type = type)
  a <- anova(bd)
  write_tsv(data.frame(term = c("group", "Residual"), df = a$Df,
                       sum_of_squares = sprintf("%.17g", a[["Sum Sq"]]),
                       mean_square = sprintf("%.17g", a[["Mean Sq"]]),
                       f = sprintf("%.17g", a[["F value"]]),
                       pval_f = sprintf("%.17g", a[["Pr(>F)"]])),
            paste0("betadisper_", name, "_anova.tsv"))
  pt <- permutest(bd, permutations = perm)
  write_tsv(data.frame(f = sprintf("%.17g", pt$statistic), pval = pt$tab[1, "Pr(>F)"]),
            paste0("betadisper_", name, "_permutest.tsv"))
  write_tsv(data.frame(sample_id = names(bd$distances),
                       distance = sprintf("%.17g", bd$distances)),
            paste0("betadisper_", name, "_distances.tsv"))
}

## dune -------------------------------------------------------------------------------
data(dune); data(dune.env)
env <- dune.env
# ordered factors as plain factors: the same column space (so the same sums of squares),
# and the labels exported as text
for (v in c("Moisture", "Use", "Manure")) env[[v]] <- factor(as.character(env[[v]]))
env$plot <- sprintf("P%02d", rep(1:10, each = 2))   # 10 whole blocks of 2 samples
rownames(env) <- rownames(dune)
write.table(cbind(sample_id = rownames(dune), dune), "dune.tsv", sep = "\t", quote = FALSE,
            row.names = FALSE)
write_tsv(cbind(sample_id = rownames(env), env), "dune_env.tsv")
dune_bray <- vegdist(dune, method = "bray")
m <- as.matrix(dune_bray)
write.table(cbind(sample_id = rownames(m), format(m, digits = 17)), "dune_braycurtis.tsv",
            sep = "\t", quote = FALSE, row.names = FALSE, col.names = c("", rownames(m)))

n <- nrow(dune)
set.seed(1); perm_free <- shuffleSet(n, NPERM)
set.seed(2); perm_strata <- shuffleSet(n, NPERM, control = how(blocks = env$Use))
set.seed(3)
perm_blocks <- shuffleSet(n, NPERM, control = how(plots = Plots(strata = factor(env$plot),
                                                                 type = "free"),
                                                  within = Within(type = "none")))
write_perm(perm_free, "perm_dune_free.tsv")
write_perm(perm_strata, "perm_dune_strata_Use.tsv")
write_perm(perm_blocks, "perm_dune_blocks_plot.tsv")

run_adonis("dune_terms", dune_bray ~ Management + A1 + Use, env, "terms", perm_free)
run_adonis("dune_margin", dune_bray ~ Management + A1 + Use, env, "margin", perm_free)
run_adonis("dune_interaction_terms", dune_bray ~ Management * A1, env, "terms", perm_free)
run_adonis("dune_interaction_margin", dune_bray ~ Management * A1, env, "margin", perm_free)
run_adonis("dune_factors_interaction", dune_bray ~ Management * Moisture, env, "terms",
           perm_free)
run_adonis("dune_strata", dune_bray ~ A1 + Management, env, "terms", perm_strata)
run_adonis("dune_blocks", dune_bray ~ A1, env, "terms", perm_blocks)
run_betadisper("dune_centroid", dune_bray, env$Management, "centroid", perm_free)
run_betadisper("dune_median", dune_bray, env$Management, "median", perm_free)

## fibromyalgia (distances from gutaxis) -------------------------------------------------
meta <- read.delim("fibromyalgia_metadata.tsv", row.names = 1, stringsAsFactors = TRUE)
set.seed(4); perm_fbm <- shuffleSet(nrow(meta), NPERM)
write_perm(perm_fbm, "perm_fibromyalgia.tsv")
for (metric in c("braycurtis", "unweighted_unifrac")) {
  d <- as.matrix(read.delim(paste0("fibromyalgia_", metric, ".tsv"), row.names = 1,
                            check.names = FALSE))
  stopifnot(identical(rownames(d), rownames(meta)))
  d <- as.dist(d)
  f <- d ~ group + covariate_age + covariate_imc + covariate_sii
  environment(f) <- environment()
  run_adonis(paste0("fibromyalgia_", metric, "_terms"), f, meta, "terms", perm_fbm)
  run_adonis(paste0("fibromyalgia_", metric, "_margin"), f, meta, "margin", perm_fbm)
  run_betadisper(paste0("fibromyalgia_", metric, "_centroid"), d, meta$group, "centroid",
                 perm_fbm)
  run_betadisper(paste0("fibromyalgia_", metric, "_median"), d, meta$group, "median",
                 perm_fbm)
}
writeLines(c(R.version.string, paste("vegan", packageVersion("vegan")),
             paste("permute", packageVersion("permute"))), "versions.txt")

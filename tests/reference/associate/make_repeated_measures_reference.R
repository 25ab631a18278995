# lmer/lmerTest reference for the mixed-model path of gutaxis.stats.associate.
# Input: repeated_measures.tsv (beside this script): 72 synthetic samples of 18 subjects,
# metadata group/age/subject and features f0..f5 (made once by a seeded numpy draw; kept
# as data so that R and Python read the very same numbers). Per feature, MaAsLin 2's LOG
# transform (zeros -> half the feature's smallest positive value, log2), then
# lmer(y ~ group + age + (1 | subject)) by REML with Satterthwaite df, as MaAsLin 2 fits.
# Run from the repository root: Rscript tests/reference/associate/make_repeated_measures_reference.R
suppressPackageStartupMessages(library(lmerTest))
dir <- "tests/reference/associate"
d <- read.delim(file.path(dir, "repeated_measures.tsv"))
LOG <- function(x) log2(replace(x, x == 0, min(x[x > 0]) / 2))
rows <- list()
for (f in paste0("f", 0:4)) {
  d$y <- LOG(d[[f]])
  fit <- lmer(y ~ group + age + (1 | subject), data = d, REML = TRUE)
  co <- coef(summary(fit))[-1, , drop = FALSE]
  rows[[f]] <- data.frame(feature = f, term = rownames(co), coef = co[, "Estimate"],
                          stderr = co[, "Std. Error"], df = co[, "df"],
                          pval = co[, "Pr(>|t|)"], singular = isSingular(fit))
}
out <- do.call(rbind, rows)
num <- vapply(out, is.numeric, logical(1))
out[num] <- lapply(out[num], function(x) formatC(x, digits = 17, format = "g"))
write.table(out, file.path(dir, "repeated_measures_lmer.tsv"), sep = "\t", quote = FALSE,
            row.names = FALSE)

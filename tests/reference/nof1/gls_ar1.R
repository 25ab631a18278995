# Reference values for gutaxis.stats.nof1.fit_gls_ar1: nlme::gls with corAR1, REML.
# Run: Rscript gls_ar1.R   (writes gls_ar1.tsv)
library(nlme)
d <- read.csv("series.csv")
ctl <- glsControl(tolerance = 1e-12, msTol = 1e-12, maxIter = 500, msMaxIter = 500)
out <- list()
for (s in unique(d$series)) {
  x <- d[d$series == s, ]
  fit <- gls(y ~ time + level + slope, data = x, correlation = corAR1(form = ~ time),
             method = "REML", control = ctl)
  tt <- summary(fit)$tTable
  phi <- coef(fit$modelStruct$corStruct, unconstrained = FALSE)
  out[[s]] <- data.frame(series = s, term = rownames(tt), coef = tt[, 1], se = tt[, 2],
                         t = tt[, 3], p = tt[, 4], phi = unname(phi), sigma = fit$sigma,
                         loglik = as.numeric(logLik(fit)))
}
res <- do.call(rbind, out)
write.table(format(res, digits = 15), "gls_ar1.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
cat(R.version.string, "nlme", as.character(packageVersion("nlme")), "\n")

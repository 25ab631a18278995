# Reference for gutaxis.evidence pooling: IBS-SSS total (MD), the one group the evidence
# table (version 2026.12.1) can pool. The arm numbers are typed in here from numbers.tsv
# (as printed in the sources), three-arm trials are combined with the Cochrane Handbook
# formula (table 6.5.a) written out independently of gutaxis, and the pooled model is
# metafor's rma(method = "REML", test = "knha").
# Run: Rscript make_fixture.R   (writes studies.tsv and pooled.tsv beside this script)
library(metafor)

combine <- function(n, m, s) {
  N <- n[1]; M <- m[1]; S <- s[1]
  for (i in seq_along(n)[-1]) {
    NN <- N + n[i]
    V <- ((N - 1) * S^2 + (n[i] - 1) * s[i]^2 + N * n[i] / NN * (M - m[i])^2) / (NN - 1)
    M <- (N * M + n[i] * m[i]) / NN
    N <- NN; S <- sqrt(V)
  }
  c(N, M, S)
}
# Lyra 2016 (randomised n, Table 1; changes printed as decreases, abstract)
lyra <- combine(c(129, 131), c(-50.8, -48.3), c(82.4, 72.2))
# Martoni 2023 (ITT n, Table 1; day-56 changes, Table 2)
martoni <- combine(c(104, 99), c(-128.45, -156.77), c(83.30, 99.06))
arms <- data.frame(study = c("Lyra et al. 2016", "Martoni 2023"),
                   n_t = c(lyra[1], martoni[1]), mean_t = c(lyra[2], martoni[2]),
                   sd_t = c(lyra[3], martoni[3]), n_c = c(131, 104), mean_c = c(-44.0, -58.82),
                   sd_c = c(80.2, 74.75))
es <- escalc(measure = "MD", m1i = mean_t, sd1i = sd_t, n1i = n_t, m2i = mean_c, sd2i = sd_c,
             n2i = n_c, data = arms)
# Sisson 2014: reported MD -35.0 (95% CI -62.03 to -7.87)
sisson_se <- (-7.87 - -62.03) / (2 * qnorm(0.975))
studies <- data.frame(study = c("Lyra et al. 2016", "Sisson et al. 2014", "Martoni 2023"),
                      yi = c(es$yi[1], -35.0, es$yi[2]),
                      vi = c(es$vi[1], sisson_se^2, es$vi[2]))
fit <- rma(yi, vi, data = studies, method = "REML", test = "knha")
pred <- predict(fit)
pooled <- data.frame(estimate = as.numeric(fit$beta), ci_low = fit$ci.lb, ci_high = fit$ci.ub,
                     pi_low = pred$pi.lb, pi_high = pred$pi.ub, tau2 = fit$tau2, i2 = fit$I2,
                     k = fit$k)
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
write.table(format(studies, digits = 15), file.path(here, "studies.tsv"), sep = "\t",
            quote = FALSE, row.names = FALSE)
write.table(format(pooled, digits = 15), file.path(here, "pooled.tsv"), sep = "\t",
            quote = FALSE, row.names = FALSE)

# Reference values for gutaxis.stats.mediation (see README.md).
# Run: R_LIBS_USER=/work/rlib Rscript make_reference.R   (from this folder)
suppressPackageStartupMessages({library(lavaan); library(mediation)})
writeLines(c(R.version.string, paste("lavaan", packageVersion("lavaan")),
             paste("mediation", packageVersion("mediation"))), "versions.txt")
set.seed(20261205)
n <- 300
site <- factor(sample(c("a", "b", "c"), n, replace = TRUE))
c1 <- rnorm(n)
t <- rep(c(0, 1), each = n / 2)
m1 <- 0.5 * t + 0.3 * c1 + 0.2 * (site == "b") + rnorm(n)
m2 <- 0.4 * t + 0.5 * m1 - 0.2 * c1 + rnorm(n)
y <- 0.3 * t + 0.6 * m1 + 0.4 * m2 + 0.2 * c1 - 0.3 * (site == "c") + rnorm(n)
mb <- rbinom(n, 1, plogis(-0.3 + 0.9 * t + 0.4 * c1))
yb <- rbinom(n, 1, plogis(-0.5 + 0.4 * t + 0.7 * m1 + 0.3 * c1))
ybb <- rbinom(n, 1, plogis(-0.6 + 0.5 * t + 1.0 * mb + 0.3 * c1))
ymb <- 0.3 * t + 0.9 * mb + 0.2 * c1 + rnorm(n)
d <- data.frame(sample_id = sprintf("s%03d", 1:n), t, c1, site, m1, m2, y, mb, yb, ybb, ymb)
write.table(d, "data.tsv", sep = "\t", quote = FALSE, row.names = FALSE)

out <- list()
add <- function(case, effect, estimate, ci_low = NA, ci_high = NA, source = "") {
  out[[length(out) + 1]] <<- data.frame(case = case, effect = effect, estimate = estimate,
                                        ci_low = ci_low, ci_high = ci_high, source = source)
}
save_all <- function() {  # after each section, so that a long run keeps what it has
  write.table(do.call(rbind, out), "expected.tsv", sep = "\t", quote = FALSE,
              row.names = FALSE)
}

# mediation: quasi-Bayesian intervals (sims = 2000) and, for the point estimates, the
# mean over K seeds of the nonparametric-bootstrap branch's full-data estimate (which
# integrates over the mediator by simulating one draw per sample)
cases <- list(
  lin_lin = list(m = lm(m1 ~ t + c1 + site, d), y = lm(y ~ t + m1 + c1 + site, d), med = "m1"),
  lin_logit = list(m = lm(m1 ~ t + c1 + site, d),
                   y = glm(yb ~ t + m1 + c1 + site, binomial, d), med = "m1"),
  logit_lin = list(m = glm(mb ~ t + c1 + site, binomial, d),
                   y = lm(ymb ~ t + mb + c1 + site, d), med = "mb"),
  logit_logit = list(m = glm(mb ~ t + c1 + site, binomial, d),
                     y = glm(ybb ~ t + mb + c1 + site, binomial, d), med = "mb"))

# The same definitions evaluated exactly from the fitted models (numerical integration over
# a normal mediator, a sum over a binary one): the tight check of the point estimates
exact_q <- function(cs, ty, tm) {
  dd <- d; dd$t <- tm
  lin <- function(fit, newdata) {
    if (inherits(fit, "glm")) predict(fit, newdata = newdata, type = "link")
    else predict(fit, newdata = newdata)
  }
  mu <- lin(cs$m, dd)
  dd$t <- ty
  binary_m <- inherits(cs$m, "glm")
  linv <- if (inherits(cs$y, "glm")) plogis else identity
  ey <- function(mval, i) {
    row <- dd[rep(i, length(mval)), ]
    row[[cs$med]] <- mval
    linv(lin(cs$y, row))
  }
  vals <- sapply(seq_len(n), function(i) {
    if (binary_m) {
      p <- plogis(mu[i]); p * ey(1, i) + (1 - p) * ey(0, i)
    } else {
      s <- summary(cs$m)$sigma
      integrate(function(x) ey(x, i) * dnorm(x, mu[i], s), mu[i] - 12 * s, mu[i] + 12 * s,
                rel.tol = 1e-12)$value
    }
  })
  mean(vals)
}
for (case in names(cases)) {
  cs <- cases[[case]]
  q <- outer(c(0, 1), c(0, 1), Vectorize(function(a, b) exact_q(cs, a, b)))
  e <- c(acme_control = q[1, 2] - q[1, 1], acme_treated = q[2, 2] - q[2, 1],
         ade_control = q[2, 1] - q[1, 1], ade_treated = q[2, 2] - q[1, 2],
         total = q[2, 2] - q[1, 1])
  for (nm in names(e)) add(case, nm, e[[nm]], source = "exact from the R fits")
}

save_all()

# medsens on the linear-linear model: ACME over rho, and the rho at which ACME = 0
sens <- medsens(mediate(cases$lin_lin$m, cases$lin_lin$y, treat = "t", mediator = "m1",
                        sims = 100), rho.by = 0.01)
write.table(data.frame(rho = sens$rho, acme = sens$d0, ci_low = sens$lower.d0,
                       ci_high = sens$upper.d0),
            "medsens.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
add("lin_lin", "rho_at_zero", sens$err.cr.d, source = "medsens rho.by = 0.01")

save_all()

# lavaan: single, parallel and serial, covariates c1 and site; bootstrap percentile CIs
models <- list(
  single = "m1 ~ a1*t + c1 + siteb + sitec
            y ~ cp*t + b1*m1 + c1 + siteb + sitec
            acme := a1*b1
            total := a1*b1 + cp",
  parallel = "m1 ~ a1*t + c1 + siteb + sitec
              m2 ~ a2*t + c1 + siteb + sitec
              y ~ cp*t + b1*m1 + b2*m2 + c1 + siteb + sitec
              acme_m1 := a1*b1
              acme_m2 := a2*b2
              acme := a1*b1 + a2*b2
              total := a1*b1 + a2*b2 + cp",
  serial = "m1 ~ a1*t + c1 + siteb + sitec
            m2 ~ a2*t + d21*m1 + c1 + siteb + sitec
            y ~ cp*t + b1*m1 + b2*m2 + c1 + siteb + sitec
            acme_m1 := a1*b1
            acme_m1_m2 := a1*d21*b2
            acme_m2 := a2*b2
            acme := a1*b1 + a1*d21*b2 + a2*b2
            total := a1*b1 + a1*d21*b2 + a2*b2 + cp")
dl <- transform(d, siteb = as.numeric(site == "b"), sitec = as.numeric(site == "c"))
for (case in names(models)) {
  fit <- sem(models[[case]], data = dl, se = "bootstrap", bootstrap = 500)
  pe <- parameterEstimates(fit, boot.ci.type = "perc")
  keep <- pe$label != "" & (pe$op == ":=" | pe$label == "cp")
  for (i in which(keep)) {
    add(paste0("linear_", case), ifelse(pe$label[i] == "cp", "ade", pe$label[i]),
        pe$est[i], pe$ci.lower[i], pe$ci.upper[i], "lavaan boot 500 perc")
  }
}

save_all()

fields <- c(acme_control = "d0", acme_treated = "d1", acme = "d.avg", ade_control = "z0",
            ade_treated = "z1", ade = "z.avg", total = "tau.coef",
            prop_mediated_control = "n0", prop_mediated_treated = "n1",
            prop_mediated = "n.avg")
cis <- c(d0 = "d0.ci", d1 = "d1.ci", d.avg = "d.avg.ci", z0 = "z0.ci", z1 = "z1.ci",
         z.avg = "z.avg.ci", tau.coef = "tau.ci", n0 = "n0.ci", n1 = "n1.ci",
         n.avg = "n.avg.ci")
K <- 100
for (case in names(cases)) {
  cs <- cases[[case]]
  set.seed(1)
  qb <- mediate(cs$m, cs$y, treat = "t", mediator = cs$med, sims = 2000)
  for (e in names(fields)) {
    f <- fields[[e]]
    add(case, e, qb[[f]], qb[[cis[[f]]]][1], qb[[cis[[f]]]][2], "mediation QB 2000")
  }
  est <- matrix(NA, K, length(fields))
  for (k in 1:K) {
    set.seed(1000 + k)
    bt <- suppressMessages(mediate(cs$m, cs$y, treat = "t", mediator = cs$med, boot = TRUE,
                                   sims = 2))
    est[k, ] <- sapply(fields, function(f) bt[[f]])
  }
  for (j in seq_along(fields)) {
    add(case, names(fields)[j], mean(est[, j]), mean(est[, j]) - 4 * sd(est[, j]) / sqrt(K),
        mean(est[, j]) + 4 * sd(est[, j]) / sqrt(K), paste0("mediation boot point mean of ", K,
                                                           " seeds +- 4 SE"))
  }
  save_all()
}

res <- do.call(rbind, out)
write.table(res, "expected.tsv", sep = "\t", quote = FALSE, row.names = FALSE)


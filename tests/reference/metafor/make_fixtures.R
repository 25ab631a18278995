# Reference values for gutaxis.stats.meta from R metafor 3.8-1 (Debian r-cran-metafor).
#
# Run from this folder:  nice Rscript make_fixtures.R
# Writes the study tables (input_*.csv) and the metafor outputs (*.tsv) beside it.
# Iterative estimators are converged tightly (threshold and uniroot tol 1e-12) so that
# the fixture holds the root itself, not metafor's default stopping point (1e-5 / 1.2e-4).
suppressPackageStartupMessages(library(metafor))
options(warn = 1)
ctl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
ci_ctl <- list(tol = 1e-12, maxiter = 10000)
methods <- c("FE", "DL", "REML", "ML", "PM", "SJ", "HE", "HS", "EB")
tests <- c("z", "knha")
fmt <- function(x) sprintf("%.17g", x)  # 17 significant digits: reads back to the same float64; no padding
write_tsv <- function(frame, path) {
  frame[] <- lapply(frame, function(col) if (is.numeric(col)) fmt(col) else col)
  write.table(frame, path, sep = "\t", quote = FALSE, row.names = FALSE, na = "NA")
}
append_rows <- function(store, name, frame) {
  store[[name]] <- rbind(store[[name]], frame)
  store
}

# ---- study tables, in the gutaxis column names ------------------------------------------
bcg <- data.frame(study = dat.bcg$author, events_t = dat.bcg$tpos,
                  n_t = dat.bcg$tpos + dat.bcg$tneg, events_c = dat.bcg$cpos,
                  n_c = dat.bcg$cpos + dat.bcg$cneg, ablat = dat.bcg$ablat,
                  year = dat.bcg$year, alloc = dat.bcg$alloc)
niel <- data.frame(study = dat.nielweise2007$author, events_t = dat.nielweise2007$ai,
                   n_t = dat.nielweise2007$n1i, events_c = dat.nielweise2007$ci,
                   n_c = dat.nielweise2007$n2i)
normand <- data.frame(study = dat.normand1999$source, mean_t = dat.normand1999$m1i,
                      sd_t = dat.normand1999$sd1i, n_t = dat.normand1999$n1i,
                      mean_c = dat.normand1999$m2i, sd_c = dat.normand1999$sd2i,
                      n_c = dat.normand1999$n2i)
zcor <- escalc("ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
molloy <- data.frame(study = paste(dat.molloy2014$authors, dat.molloy2014$year),
                     yi = as.numeric(zcor$yi), vi = as.numeric(zcor$vi),
                     meanage = dat.molloy2014$meanage)
write_tsv(bcg, "input_bcg.tsv")
write_tsv(niel, "input_nielweise2007.tsv")
write_tsv(normand, "input_normand1999.tsv")
write_tsv(molloy, "input_molloy2014.tsv")

effects <- function(measure, frame) {
  if (measure %in% c("RR", "OR", "RD"))
    return(escalc(measure, ai = events_t, n1i = n_t, ci = events_c, n2i = n_c, data = frame))
  if (measure %in% c("SMD", "MD", "ROM"))
    return(escalc(measure, m1i = mean_t, sd1i = sd_t, n1i = n_t, m2i = mean_c,
                  sd2i = sd_c, n2i = n_c, data = frame))
  escalc("GEN", yi = yi, vi = vi, data = frame)
}
cases <- list(bcg_RR = list("RR", bcg), bcg_OR = list("OR", bcg), bcg_RD = list("RD", bcg),
              nielweise_OR = list("OR", niel), nielweise_RR = list("RR", niel),
              nielweise_RD = list("RD", niel),
              normand_SMD = list("SMD", normand), normand_MD = list("MD", normand),
              normand_ROM = list("ROM", normand), molloy_GEN = list("GEN", molloy))

model_row <- function(case, fit, model = "overall") {
  pred <- predict(fit)
  if (is.null(pred$pi.lb)) pred$pi.lb <- pred$ci.lb  # FE: no heterogeneity, PI = CI
  if (is.null(pred$pi.ub)) pred$pi.ub <- pred$ci.ub
  qp <- if (fit$method == "FE") c(0, 0) else {
    ci <- confint(fit, control = ci_ctl)$random
    c(ci["tau^2", "ci.lb"], ci["tau^2", "ci.ub"])
  }
  data.frame(case = case, model = model, method = fit$method, test = fit$test, k = fit$k,
             estimate = fit$beta[1], se = fit$se[1], zval = fit$zval[1], pval = fit$pval[1],
             ci_low = fit$ci.lb[1], ci_high = fit$ci.ub[1], pi_low = pred$pi.lb,
             pi_high = pred$pi.ub, tau2 = fit$tau2, tau2_ci_low = qp[1], tau2_ci_high = qp[2],
             i2 = fit$I2, h2 = fit$H2, q = fit$QE, q_pval = fit$QEp)
}

out <- list()
for (case in names(cases)) {
  measure <- cases[[case]][[1]]
  frame <- cases[[case]][[2]]
  es <- effects(measure, frame)
  out <- append_rows(out, "escalc", data.frame(case = case, study = frame$study,
                                               yi = as.numeric(es$yi), vi = as.numeric(es$vi)))
  rt <- ranktest(es$yi, es$vi)
  out <- append_rows(out, "ranktest", data.frame(case = case, tau = unname(rt$tau),
                                                 pval = rt$pval))
  for (method in methods) for (test in tests) {
    fit <- rma(yi, vi, data = es, method = method, test = test, control = ctl)
    out <- append_rows(out, "models", model_row(case, fit))
    eg <- regtest(fit)
    out <- append_rows(out, "regtest", data.frame(
      case = case, method = method, test = test, zval = eg$zval, pval = eg$pval,
      limit = unname(eg$est), limit_ci_low = eg$ci.lb, limit_ci_high = eg$ci.ub))
    l1 <- leave1out(fit)
    out <- append_rows(out, "leave1out", data.frame(
      case = case, method = method, test = test, study = frame$study,
      estimate = l1$estimate, se = l1$se, ci_low = l1$ci.lb, ci_high = l1$ci.ub,
      q = l1$Q, q_pval = l1$Qp, tau2 = if (method == "FE") 0 else l1$tau2,
      i2 = l1$I2, h2 = l1$H2))
    inf <- influence(fit)$inf
    out <- append_rows(out, "influence", data.frame(
      case = case, method = method, test = test, study = frame$study,
      rstudent = inf$rstudent, dffits = inf$dffits, cook_d = inf$cook.d, cov_r = inf$cov.r,
      tau2_del = inf$tau2.del, qe_del = inf$QE.del, hat = inf$hat, weight = inf$weight))
    tf <- trimfill(fit, control = ctl)
    out <- append_rows(out, "trimfill", data.frame(
      case = case, method = method, test = test, side = tf$side, k0 = tf$k0,
      se_k0 = tf$se.k0, estimate = tf$beta[1], se = tf$se, ci_low = tf$ci.lb,
      ci_high = tf$ci.ub, tau2 = tf$tau2))
  }
}

# ---- subgroups (dat.bcg by alloc) and meta-regression (dat.bcg ablat + year) --------------
es <- effects("RR", bcg)
mol <- effects("GEN", molloy)
for (method in methods) for (test in tests) {
  for (level in sort(unique(bcg$alloc))) {
    keep <- es$alloc == level
    fit <- rma(yi, vi, data = es, subset = keep, method = method, test = test, control = ctl)
    out <- append_rows(out, "subgroups", model_row("bcg_RR", fit, model = level))
  }
  regs <- list(bcg_RR = rma(yi, vi, mods = ~ ablat + year, data = es, method = method,
                            test = test, control = ctl),
               molloy_GEN = rma(yi, vi, mods = ~ meanage, data = mol, method = method,
                                test = test, control = ctl))
  for (case in names(regs)) {
    fit <- regs[[case]]
    out <- append_rows(out, "metareg", data.frame(
      case = case, method = method, test = test, term = rownames(fit$beta),
      estimate = fit$beta[, 1], se = fit$se, zval = fit$zval, pval = fit$pval,
      ci_low = fit$ci.lb, ci_high = fit$ci.ub, tau2 = fit$tau2, qm = fit$QM, qm_pval = fit$QMp,
      qe = fit$QE, qe_pval = fit$QEp, i2 = fit$I2, h2 = fit$H2))
  }
}
for (name in names(out)) write_tsv(out[[name]], paste0(name, ".tsv"))
writeLines(c(paste("metafor", packageVersion("metafor")), R.version.string),
           "versions.txt")

# Reference fits for gutaxis.stats.models.logistic and .logistic_mixed (prevalence models), made with R + lme4.
#
# Data: HMP2 species profiles as shipped with MaAsLin 2 (../shared/data/hmp2), complete cases
# (1,576 samples). Outcome: presence (relative abundance > 0) of each species.
# Fixed effects: diagnosis (reference nonIBD) + dysbiosisnonIBD + dysbiosisUC + dysbiosisCD +
# antibiotics + age, i.e. the model of the data set's README.
#
# Outputs (TSV, one row per feature x term):
#   glm_hmp2.tsv            glm(binomial), all 87 species, epsilon = 1e-14 (converged tightly)
#   glm_hmp2_augmented.tsv  same with MaAsLin 3's augmentation (two weighted pseudo-copies of
#                           every row, y = 1 and y = 0, each weight p / (2 n))
#   glmer_subject.tsv       glmer(binomial, nAGQ = 1) with (1 | subject), 15 species
#   glmer_site_subject.tsv  glmer with (1 | site) + (1 | subject), 9 species
#   glmer_site_subject_augmented.tsv  the same, augmented as MaAsLin 3 does by default
# glm: after convergence the model is refitted from its own estimate, so that the reported
# standard errors use weights at the final estimate (glm.fit's QR holds the weights of the
# previous iteration).
# glmer fits use tight tolerances (PIRLS tolPwrss 1e-12 instead of 1e-7; nloptwrap BOBYQA with
# xtol_rel 1e-12) so that the reference is not limited by lme4's defaults: with the default
# tolPwrss the log-determinant is taken at the weights of the previous PIRLS iteration, which
# moves the Laplace deviance by up to ~0.03 here. Columns `default_*` give the fit with
# MaAsLin 3's own control (nloptwrap, maxeval 1e5, default tolPwrss) to show how far that lands.
# `vcov_source` says whether summary() used the finite-difference Hessian or fell back to RX.
#
# Run from the repository root:  Rscript tests/reference/glm/make_glm_reference.R
# R 4.2.2, lme4 1.1-31.
suppressPackageStartupMessages(library(lme4))
source("tests/reference/glm/hmp2_inputs.R")  # meta, tax, species, fixed, out_dir

tidy <- function(feature, tab, extra) {
  data.frame(feature = feature, term = rownames(tab), estimate = tab[, 1], stderr = tab[, 2],
             z = tab[, 3], p = tab[, 4], extra, row.names = NULL, check.names = FALSE)
}
augment <- function(d, p) {
  n <- nrow(d)
  aug <- rbind(d, d, d)
  aug$y[(n + 1):(2 * n)] <- 1
  aug$y[(2 * n + 1):(3 * n)] <- 0
  aug$w <- c(rep(1, n), rep(p / (2 * n), 2 * n))
  aug
}
catch_warnings <- function(expr) {
  msgs <- character(0)
  value <- withCallingHandlers(expr, warning = function(w) {
    if (conditionMessage(w) != "non-integer #successes in a binomial glm!")
      msgs <<- c(msgs, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  list(value = value, warnings = paste(unique(msgs), collapse = "; "))
}

parts <- commandArgs(trailingOnly = TRUE)
if (length(parts) == 0) parts <- c("glm", "glmer")

# ---- glm ----------------------------------------------------------------------------------
fit_glm <- function(aug) {
  rows <- list()
  for (sp in species) {
    d <- meta
    d$y <- as.numeric(tax[[sp]] > 0)
    f <- as.formula(paste("y ~", fixed))
    p <- ncol(model.matrix(f, d)) - 1
    if (aug) d <- augment(d, p) else d$w <- 1
    res <- catch_warnings(glm(f, data = d, family = binomial(), weights = w,
                              control = glm.control(epsilon = 1e-14, maxit = 100)))
    fit <- res$value
    if (fit$converged && res$warnings == "")
      fit <- suppressWarnings(glm(f, data = d, family = binomial(), weights = w,
                                  start = coef(fit),
                                  control = glm.control(epsilon = 1e-14, maxit = 100)))
    rows[[sp]] <- tidy(sp, coef(summary(fit)),
                       data.frame(deviance = deviance(fit), converged = fit$converged,
                                  iterations = fit$iter, warnings = res$warnings))
  }
  do.call(rbind, rows)
}
if ("glm" %in% parts) {
write.table(fit_glm(FALSE), file.path(out_dir, "glm_hmp2.tsv"), sep = "\t", quote = FALSE,
            row.names = FALSE)
write.table(fit_glm(TRUE), file.path(out_dir, "glm_hmp2_augmented.tsv"), sep = "\t",
            quote = FALSE, row.names = FALSE)
}

# ---- glmer --------------------------------------------------------------------------------
tight <- glmerControl(optimizer = "nloptwrap", tolPwrss = 1e-12,
                      optCtrl = list(algorithm = "NLOPT_LN_BOBYQA", xtol_rel = 1e-12,
                                     ftol_abs = 1e-12, ftol_rel = 1e-14, maxeval = 100000))
maaslin3 <- glmerControl(optimizer = "nloptwrap", optCtrl = list(maxeval = 100000))
fit_glmer <- function(chosen, random, aug) {
  rows <- list()
  for (sp in chosen) {
    d <- meta
    d$y <- as.numeric(tax[[sp]] > 0)
    f <- as.formula(paste("y ~", fixed, "+", random))
    p <- ncol(model.matrix(as.formula(paste("y ~", fixed)), d)) - 1
    if (aug) d <- augment(d, p) else d$w <- 1
    t0 <- proc.time()[["elapsed"]]
    res <- catch_warnings(glmer(f, data = d, family = binomial, weights = w, control = tight))
    elapsed <- proc.time()[["elapsed"]] - t0
    dflt <- catch_warnings(glmer(f, data = d, family = binomial, weights = w, control = maaslin3))
    fit <- res$value
    vc <- as.data.frame(VarCorr(fit))
    variances <- paste(paste0(vc$grp, "=", format(vc$vcov, digits = 17)), collapse = ";")
    vcov_source <- tryCatch({vcov(fit); "hessian"}, warning = function(w) "RX")
    tab <- suppressWarnings(coef(summary(fit)))
    dtab <- suppressWarnings(coef(summary(dflt$value)))
    rows[[sp]] <- tidy(sp, tab, data.frame(
      variances = variances, laplace_deviance = -2 * as.numeric(logLik(fit)),
      default_estimate = dtab[, 1], default_stderr = dtab[, 2],
      seconds = elapsed, vcov_source = vcov_source, warnings = res$warnings, default_warnings = dflt$warnings,
      check.names = FALSE))
  }
  do.call(rbind, rows)
}
if ("glmer" %in% parts) {
write.table(fit_glmer(species[seq(1, length(species), by = 6)], "(1 | subject)", FALSE),
            file.path(out_dir, "glmer_subject.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
write.table(fit_glmer(species[seq(3, length(species), by = 10)], "(1 | site) + (1 | subject)",
                      FALSE),
            file.path(out_dir, "glmer_site_subject.tsv"), sep = "\t", quote = FALSE,
            row.names = FALSE)
write.table(fit_glmer(species[seq(3, length(species), by = 10)], "(1 | site) + (1 | subject)",
                      TRUE),
            file.path(out_dir, "glmer_site_subject_augmented.tsv"), sep = "\t", quote = FALSE,
            row.names = FALSE)
}

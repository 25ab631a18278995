#!/usr/bin/env Rscript
# Reference fits for gutaxis.stats.models.linear_mixed, made with lme4 + lmerTest (REML, Satterthwaite).
#
# Run from the repository root:
#   Rscript tests/reference/lmm/make_fixtures.R [path/to/shared/data]
# Writes, next to this script:
#   hmp2_site_subject_{coef,fit}.tsv  HMP2 (MaAsLin 2 demo model), all 87 features,
#                                     TSS -> AST, fixed diagnosis + dysbiosis* + antibiotics + age,
#                                     random (1|site) + (1|subject), complete cases.
#   hmp2_subject_{coef,fit}.tsv       same fixed effects, a single random intercept (1|subject).
#   hmp2_site_subject_tight_*.tsv     the first model with the optimiser converged tightly
#                                     (lme4's default stops at ftol_abs = 1e-8 in the deviance).
#   lme4data_{data,coef,fit}.tsv      lme4's own small data sets as edge cases:
#                                     Dyestuff2 (singular: batch variance 0), Penicillin (crossed
#                                     plate x sample), Pastes (nested batch / batch:cask);
#                                     each with lme4's default and with the tight optimiser
#                                     (model names ending in "_tight"), and fitted by ML
#                                     (REML = FALSE, tight; "_ml_tight", remlcrit = deviance).
# Numbers are written with 17 significant digits.

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
})

args <- commandArgs(trailingOnly = TRUE)
here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", a[grep("^--file=", a)])
  if (length(f)) dirname(normalizePath(f)) else "tests/reference/lmm"
})
data_dir <- if (length(args)) args[1] else file.path(here, "..", "..", "..", "..", "shared", "data")

fmt <- function(df) {
  for (nm in names(df)) if (is.double(df[[nm]])) df[[nm]] <- sprintf("%.17g", df[[nm]])
  df
}
write_tsv <- function(df, name) {
  write.table(fmt(df), file.path(here, name), sep = "\t", quote = FALSE, row.names = FALSE)
}

# Fit one model; keep lme4/lmerTest warnings as the message.
# `tight` converges the optimiser far below lme4's default stopping rule (nloptwrap BOBYQA with
# ftol_abs = 1e-8), which leaves theta ~1e-6 (relative) short of the optimum.
tight_control <- lmerControl(optimizer = "nloptwrap",
                             optCtrl = list(ftol_abs = 1e-15, ftol_rel = 1e-15, xtol_abs = 1e-13,
                                            xtol_rel = 1e-13, maxeval = 1e5))
fit_one <- function(formula, data, tight = FALSE, reml = TRUE) {
  msgs <- character(0)
  control <- if (tight) tight_control else lmerControl()
  fit <- withCallingHandlers(
    lmerTest::lmer(formula, data = data, REML = reml, control = control),
    warning = function(w) { msgs <<- c(msgs, conditionMessage(w)); invokeRestart("muffleWarning") },
    message = function(m) { msgs <<- c(msgs, trimws(conditionMessage(m))); invokeRestart("muffleMessage") }
  )
  list(fit = fit, message = paste(msgs, collapse = "; "))
}

tidy_fit <- function(label, res) {
  fit <- res$fit
  co <- summary(fit)$coefficients
  coef_df <- data.frame(model = label, term = rownames(co), estimate = co[, "Estimate"],
                        stderr = co[, "Std. Error"], df = co[, "df"], tvalue = co[, "t value"],
                        pval = co[, "Pr(>|t|)"], stringsAsFactors = FALSE)
  vc <- as.data.frame(VarCorr(fit))
  vc <- vc[is.na(vc$var2), ]
  grp <- vc$grp[vc$grp != "Residual"]
  var_df <- as.data.frame(as.list(setNames(vc$vcov[vc$grp != "Residual"], paste0("var_", grp))))
  th <- getME(fit, "theta")
  theta_df <- as.data.frame(as.list(setNames(unname(th), paste0("theta_", sub(".\\(Intercept\\)$", "", names(th))))))
  crit <- if (isREML(fit)) REMLcrit(fit) else deviance(fit)  # ML: -2 log-likelihood
  fit_df <- data.frame(model = label, sigma = sigma(fit), remlcrit = unname(crit),
                       singular = isSingular(fit), message = res$message, stringsAsFactors = FALSE)
  list(coef = coef_df, fit = cbind(fit_df, var_df, theta_df))
}

# ---- HMP2, as MaAsLin 2 prepares it --------------------------------------------------------
tax <- read.delim(gzfile(file.path(data_dir, "hmp2", "HMP2_taxonomy.tsv.gz")), check.names = FALSE)
meta <- read.delim(file.path(data_dir, "hmp2", "HMP2_metadata.tsv"))
rownames(tax) <- tax$ID
feat <- as.matrix(tax[, -1])
keep <- colSums(feat > 0) > 0.1 * nrow(feat) & apply(feat, 2, var) > 0
feat <- feat[, keep]
feat <- feat / rowSums(feat)            # TSS on the kept features
feat <- asin(sqrt(feat))                # AST
meta <- meta[match(rownames(feat), meta$ID), ]
meta$diagnosis <- relevel(factor(meta$diagnosis), ref = "nonIBD")
for (v in c("dysbiosisnonIBD", "dysbiosisUC", "dysbiosisCD", "antibiotics")) {
  meta[[v]] <- factor(meta[[v]], levels = c("No", "Yes"))
}
fixed <- "diagnosis + dysbiosisnonIBD + dysbiosisUC + dysbiosisCD + antibiotics + age"
cc <- complete.cases(meta[, c("diagnosis", "dysbiosisnonIBD", "dysbiosisUC", "dysbiosisCD",
                             "antibiotics", "age", "site", "subject")])
meta <- meta[cc, ]
feat <- feat[cc, ]
cat("HMP2 complete cases:", nrow(meta), "features:", ncol(feat), "\n")

run_hmp2 <- function(random, prefix, tight = FALSE) {
  coefs <- list(); fits <- list()
  elapsed <- system.time({
    for (j in seq_len(ncol(feat))) {
      d <- meta
      d$y <- feat[, j]
      res <- fit_one(as.formula(paste("y ~", fixed, "+", random)), d, tight = tight)
      t <- tidy_fit(colnames(feat)[j], res)
      coefs[[j]] <- t$coef; fits[[j]] <- t$fit
    }
  })[["elapsed"]]
  coef_df <- do.call(rbind, coefs); names(coef_df)[1] <- "feature"
  fit_df <- do.call(rbind, fits); names(fit_df)[1] <- "feature"
  write_tsv(coef_df, paste0(prefix, "_coef.tsv"))
  write_tsv(fit_df, paste0(prefix, "_fit.tsv"))
  cat(prefix, ": ", ncol(feat), " lmerTest fits in ", elapsed, " s\n", sep = "")
}
run_hmp2("(1 | site) + (1 | subject)", "hmp2_site_subject")
run_hmp2("(1 | subject)", "hmp2_subject")
run_hmp2("(1 | site) + (1 | subject)", "hmp2_site_subject_tight", tight = TRUE)

# ---- lme4's small data sets: singular, crossed, nested ---------------------------------------
d2 <- Dyestuff2; d2$batch <- as.character(d2$Batch)
pen <- Penicillin; pen$plate <- as.character(pen$plate); pen$sample <- as.character(pen$sample)
pas <- Pastes; pas$batch <- as.character(pas$batch); pas$cask <- as.character(pas$cask)
pas$sample <- as.character(pas$sample)
cases <- list(
  dyestuff2 = list(data = data.frame(y = d2$Yield, x = 1, g1 = d2$batch, g2 = NA),
                   formula = y ~ 1 + (1 | g1)),
  penicillin = list(data = data.frame(y = pen$diameter, x = 1, g1 = pen$plate, g2 = pen$sample),
                    formula = y ~ 1 + (1 | g1) + (1 | g2)),
  pastes = list(data = data.frame(y = pas$strength, x = 1, g1 = pas$batch, g2 = pas$sample),
                formula = y ~ 1 + (1 | g1) + (1 | g2))
)
all_data <- list(); coefs <- list(); fits <- list()
for (nm in names(cases)) {
  cs <- cases[[nm]]
  all_data[[nm]] <- cbind(dataset = nm, cs$data[, c("y", "g1", "g2")])
  for (variant in c("", "_tight", "_ml_tight")) {
    label <- paste0(nm, variant)
    t <- tidy_fit(label, fit_one(cs$formula, cs$data, tight = variant != "",
                                 reml = variant != "_ml_tight"))
    coefs[[label]] <- t$coef
    f <- t$fit
    f$var_g2 <- if ("var_g2" %in% names(f)) f$var_g2 else NA_real_
    f$theta_g2 <- if ("theta_g2" %in% names(f)) f$theta_g2 else NA_real_
    fits[[label]] <- f[, c("model", "sigma", "remlcrit", "singular", "message", "var_g1",
                           "var_g2", "theta_g1", "theta_g2")]
  }
}
write_tsv(do.call(rbind, all_data), "lme4data_data.tsv")
write_tsv(do.call(rbind, coefs), "lme4data_coef.tsv")
write_tsv(do.call(rbind, fits), "lme4data_fit.tsv")
cat(R.version.string, "lme4", as.character(packageVersion("lme4")),
    "lmerTest", as.character(packageVersion("lmerTest")), "\n")

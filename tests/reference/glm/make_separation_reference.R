# Per-term separation of the HMP2 prevalence models, for gutaxis.stats.models.separation.
#
# Data and design as make_glm_reference.R: HMP2 species (presence = relative abundance > 0),
# complete cases (1,576 samples), fixed effects diagnosis (reference nonIBD) +
# dysbiosisnonIBD + dysbiosisUC + dysbiosisCD + antibiotics + age.
#
# Definition (Albert & Anderson 1984): with s_i = 2 y_i - 1, a coefficient k is separated when
# some direction d of the cone {d : s_i x_i' d >= 0 for all i} has d_k != 0 (the likelihood
# rises without bound along d, so beta_k runs to infinity). Computed here coefficient by
# coefficient, independently of gutaxis's method: two linear programmes per coefficient,
# maximise d_k and maximise -d_k over the cone within the box |d_j| <= 1 (columns scaled to
# max |x| = 1), solved by lp_solve (R package lpSolve); separated when either optimum > 1e-7.
# Free variables are split, d = d_plus - d_minus, both in [0, 1].
#
# Output: separation_hmp2.tsv, one row per feature x term: feature, term, max_dk, min_dk,
# separated (TRUE/FALSE).
#
# Second output, separation_glmer_boundary.tsv: F. prausnitzii's prevalence model with random
# intercepts for site and subject, augmented as MaAsLin 3 does (weight 7 / (2 * 1576) per
# pseudo-row). Its separated terms are (Intercept), diagnosisUC, diagnosisCD and
# dysbiosisnonIBDYes: every non-IBD sample without dysbiosis has the species, and along the
# separating direction those samples' fitted probabilities reach 1 and leave glmer's
# objective. The limit of the estimable terms is the same glmer fit on the other samples,
# without dysbiosisnonIBD (aliased there with the intercept and diagnosis); fitted with
# tight tolerances (as make_glm_reference.R). Columns: feature, term, estimate, stderr,
# n_used, n_removed, laplace_deviance.
#
# Run from the repository root:  Rscript tests/reference/glm/make_separation_reference.R
# R 4.2.2, lpSolve 5.6.18, lme4 1.1-31.
suppressPackageStartupMessages(library(lpSolve))
suppressPackageStartupMessages(library(lme4))
source("tests/reference/glm/hmp2_inputs.R")  # meta, tax, species, fixed, out_dir
X <- model.matrix(as.formula(paste("~", fixed)), data = meta)
X <- sweep(X, 2, apply(abs(X), 2, max), "/")
p <- ncol(X)

extreme <- function(A, k, sign) {
  # variables: d_plus (p), d_minus (p); constraints A (d_plus - d_minus) >= 0, each <= 1
  obj <- rep(0, 2 * p)
  obj[k] <- sign
  obj[p + k] <- -sign
  con <- rbind(cbind(A, -A), diag(2 * p))
  res <- lp("max", obj, con, c(rep(">=", nrow(A)), rep("<=", 2 * p)),
            c(rep(0, nrow(A)), rep(1, 2 * p)))
  stopifnot(res$status == 0)
  res$objval
}

rows <- list()
for (sp in species) {
  y <- as.numeric(tax[[sp]] > 0)
  A <- (2 * y - 1) * X
  hi <- vapply(seq_len(p), function(k) extreme(A, k, 1), numeric(1))
  lo <- vapply(seq_len(p), function(k) -extreme(A, k, -1), numeric(1))
  rows[[sp]] <- data.frame(feature = sp, term = colnames(X), max_dk = hi, min_dk = lo,
                           separated = hi > 1e-7 | lo < -1e-7, row.names = NULL)
}
write.table(do.call(rbind, rows), file.path(out_dir, "separation_hmp2.tsv"), sep = "\t",
            quote = FALSE, row.names = FALSE)

# ---- glmer at the boundary (F. prausnitzii) --------------------------------------------------
sp <- "Faecalibacterium prausnitzii"
d <- meta
d$y <- as.numeric(tax[[sp]] > 0)
removed <- d$diagnosis == "nonIBD" & d$dysbiosisnonIBD == "No"
stopifnot(all(d$y[removed] == 1))
a <- 7 / (2 * nrow(d))
d <- d[!removed, ]
n <- nrow(d)
aug <- rbind(d, d, d)
aug$y[(n + 1):(2 * n)] <- 1
aug$y[(2 * n + 1):(3 * n)] <- 0
aug$w <- c(rep(1, n), rep(a, 2 * n))
tight <- glmerControl(optimizer = "nloptwrap", tolPwrss = 1e-12,
                      optCtrl = list(algorithm = "NLOPT_LN_BOBYQA", xtol_rel = 1e-12,
                                     ftol_abs = 1e-12, ftol_rel = 1e-14, maxeval = 100000))
fit <- suppressWarnings(glmer(y ~ diagnosis + dysbiosisUC + dysbiosisCD + antibiotics + age +
                                (1 | site) + (1 | subject), data = aug, family = binomial,
                              weights = w, control = tight))
tab <- coef(summary(fit))
write.table(data.frame(feature = sp, term = rownames(tab), estimate = tab[, 1],
                       stderr = tab[, 2], n_used = n, n_removed = sum(removed),
                       laplace_deviance = -2 * as.numeric(logLik(fit)), row.names = NULL),
            file.path(out_dir, "separation_glmer_boundary.tsv"), sep = "\t", quote = FALSE,
            row.names = FALSE)

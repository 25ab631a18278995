# Reference values for MaAsLin 3's group and ordered predictors (group_effects / ordered_effects),
# computed with plain R the way MaAsLin 3 0.99.1 (R/fit.R: run_group_models, run_ordered_models)
# computes them, without MaAsLin 3 itself:
#   group, LM     anova(lm)[group, "Pr(>F)"]            sequential (type I) F test
#   group, LMM    lmerTest::contest(fit, L)             F test of every level coefficient = 0,
#                                                       Satterthwaite denominator df
#   group, GLM    anova(glm, test = "LRT")[group, ]     sequential likelihood-ratio test
#   group, GLMM   anova(update(fit, ~ . - group), fit)  likelihood-ratio test against the model
#                                                       without the variable (same weights)
#   ordered       each level against the previous one: multcomp::glht (LM, GLM, GLMM) or
#                 lmerTest::contest (LMM) with the contrast rows  e_2, e_3 - e_2, ..., e_K - e_{K-1}
# As in MaAsLin 3 the group and ordered variables enter the formula after the other fixed effects
# (groups, then ordered), the abundance model is log2 of the nonzero TSS values, and the logistic
# models are augmented: every sample also enters once with y = 1 and once with y = 0, each of
# weight p / (2 n), p the number of non-intercept columns of the full design (the reduced GLMM
# keeps these weights). Mixed models are converged tightly (not lme4's default stopping point).
#
# Data (GUTAXIS_SHARED_DATA, default ../shared/data):
#   fibromyalgia: genera (lineage k__..;g__.. as gutaxis aggregates them) present in at least 60
#     of the 101 samples; TSS over those genera; group levels ctl < fbm_12_20 < fbm_21_25 < fbm_26_31.
#   hmp2: the 87 species, TSS over them; samples with age (1,576); diagnosis levels
#     nonIBD < UC < CD; random intercept per subject; GLMM on every 8th species only.
#   absent_level (synthetic, seed 9, written to absent_level_data.tsv): 72 samples of 24
#     subjects, y ~ x + group(g) + (1 | subject), g in a, b, c; log2 abundances with NA for
#     absent samples; features f1 and f2 never present at level c or b: lmer drops that
#     level's column (as MaAsLin 3's fit does) and contest tests the levels present.
# Outputs (TSV, numbers to 17 significant digits), one row per (model, feature, metadata, value):
#   fibromyalgia_terms.tsv, hmp2_terms.tsv, absent_level_terms.tsv with columns
#   model feature metadata value coef stderr statistic num_df df pval n
#   (statistic: F for F tests, chi-square for LRTs, t or z for ordered rows; df: denominator df
#   of F and t tests, NA for z and chi-square; num_df: numerator df of F and chi-square tests)
# Run from the repository root:  Rscript tests/reference/maaslin3_terms/make_terms_reference.R
# R 4.2.2, lme4 1.1-31, lmerTest 3.1-3, multcomp 1.4.
suppressPackageStartupMessages({library(lme4); library(lmerTest); library(multcomp)})
data_dir <- Sys.getenv("GUTAXIS_SHARED_DATA", "../shared/data")
out_dir <- "tests/reference/maaslin3_terms"
parts <- commandArgs(trailingOnly = TRUE)
if (length(parts) == 0) parts <- c("fibromyalgia", "hmp2", "absent_level")

write_ref <- function(frame, name) {
  num <- vapply(frame, is.numeric, logical(1))
  frame[num] <- lapply(frame[num], function(x) trimws(formatC(x, digits = 17, format = "g")))
  write.table(frame, file.path(out_dir, name), sep = "\t", quote = FALSE, row.names = FALSE)
}
row <- function(model, feature, metadata, value, coef = NA, stderr = NA, statistic = NA,
                num_df = NA, df = NA, pval = NA, n = NA) {
  data.frame(model = model, feature = feature, metadata = metadata, value = value, coef = coef,
             stderr = stderr, statistic = statistic, num_df = num_df, df = df, pval = pval, n = n)
}
quiet_binomial <- function(expr) withCallingHandlers(expr, warning = function(w) {
  if (conditionMessage(w) == "non-integer #successes in a binomial glm!") invokeRestart("muffleWarning")
})
augment <- function(d, formula, mixed = FALSE) {
  n <- nrow(d)
  p <- if (mixed) ncol(lme4::lFormula(formula, d)$X) - 1 else ncol(model.matrix(formula, d)) - 1
  aug <- rbind(d, d, d)
  aug$expr[(n + 1):(2 * n)] <- 1
  aug$expr[(2 * n + 1):(3 * n)] <- 0
  aug$w <- c(rep(1, n), rep(p / (2 * n), 2 * n))
  aug
}
# Level-vs-previous contrast rows over the coefficients `coefs` for factor `var`.
ordered_contrasts <- function(coefs, var, lv) {
  cols <- match(paste0(var, lv[-1]), coefs)
  L <- matrix(0, length(cols), length(coefs))
  L[1, cols[1]] <- 1
  for (i in seq_along(cols)[-1]) { L[i, cols[i]] <- 1; L[i, cols[i - 1]] <- -1 }
  L
}
glht_rows <- function(model, feature, fit, var, lv, coefs, df = NA, n = NA) {
  L <- ordered_contrasts(coefs, var, lv)
  do.call(rbind, lapply(seq_len(nrow(L)), function(i) {
    s <- summary(glht(fit, linfct = L[i, , drop = FALSE], rhs = 0,
                      coef. = function(x) coef(x, complete = FALSE)))$test
    row(model, feature, var, lv[i + 1], coef = unname(s$coefficients), stderr = unname(s$sigma),
        statistic = unname(s$tstat), df = df, pval = unname(s$pvalues), n = n)
  }))
}
glht_merMod_rows <- function(model, feature, fit, var, lv, n = NA) {
  L <- ordered_contrasts(names(fixef(fit)), var, lv)
  do.call(rbind, lapply(seq_len(nrow(L)), function(i) {
    s <- summary(glht(fit, linfct = L[i, , drop = FALSE], rhs = 0))$test
    row(model, feature, var, lv[i + 1], coef = unname(s$coefficients), stderr = unname(s$sigma),
        statistic = unname(s$tstat), pval = unname(s$pvalues), n = n)
  }))
}

# ---- fibromyalgia: LM and logistic GLM -----------------------------------------------------
if ("fibromyalgia" %in% parts) {
  fdir <- file.path(data_dir, "fibromyalgia")
  counts <- as.matrix(read.delim(gzfile(file.path(fdir, "feature-table.tsv.gz")), row.names = 1,
                                 check.names = FALSE))
  tax <- read.delim(gzfile(file.path(fdir, "taxonomy.tsv.gz")), row.names = 1,
                    colClasses = "character", check.names = FALSE)
  tax[is.na(tax) | tax == "0"] <- ""
  ranks <- c(kingdom = "k", phylum = "p", class = "c", order = "o", family = "f", genus = "g")
  tax <- tax[rownames(counts), names(ranks)]
  lineage <- do.call(paste, c(lapply(names(ranks), function(r) paste0(ranks[[r]], "__", tax[[r]])),
                              sep = ";"))
  genus <- t(rowsum(counts, lineage))
  meta <- read.delim(file.path(fdir, "metadata.tsv"), row.names = 1)
  genus <- genus[rownames(meta), , drop = FALSE]
  genus <- genus[, colSums(genus > 0) >= 60, drop = FALSE]
  tss <- genus / rowSums(genus)
  meta$group <- factor(meta$group, levels = c("ctl", "fbm_12_20", "fbm_21_25", "fbm_26_31"))
  meta$covariate_sii <- factor(meta$covariate_sii)
  lv <- levels(meta$group)
  rows <- list()
  for (f in colnames(tss)) {
    d <- data.frame(expr = ifelse(tss[, f] > 0, log2(tss[, f]), NA), meta)
    nz <- sum(!is.na(d$expr))
    # group(group), group(covariate_sii) after covariate_age: sequential F tests
    fit <- lm(expr ~ covariate_age + group + covariate_sii, data = d, na.action = na.exclude)
    a <- anova(fit)
    for (g in c("group", "covariate_sii"))
      rows[[length(rows) + 1]] <- row("lm_group", f, g, g, statistic = a[g, "F value"],
                                      num_df = a[g, "Df"], df = a["Residuals", "Df"],
                                      pval = a[g, "Pr(>F)"], n = nz)
    # ordered(group) after covariate_age + covariate_sii
    fit <- lm(expr ~ covariate_age + covariate_sii + group, data = d, na.action = na.exclude)
    rows[[length(rows) + 1]] <- glht_rows("lm_ordered", f, fit, "group", lv,
                                          names(coef(fit, complete = FALSE)),
                                          df = fit$df.residual, n = nz)
    # prevalence, augmented GLM
    d$expr <- as.numeric(tss[, f] > 0)
    form <- expr ~ covariate_age + group + covariate_sii
    aug <- augment(d, form)
    fit <- quiet_binomial(glm(form, data = aug, family = binomial(), weights = w,
                              control = glm.control(epsilon = 1e-14, maxit = 100)))
    a <- quiet_binomial(anova(fit, test = "LRT"))
    for (g in c("group", "covariate_sii"))
      rows[[length(rows) + 1]] <- row("glm_group", f, g, g, statistic = a[g, "Deviance"],
                                      num_df = a[g, "Df"], pval = a[g, "Pr(>Chi)"],
                                      n = nrow(d))
    form <- expr ~ covariate_age + covariate_sii + group
    aug <- augment(d, form)
    fit <- quiet_binomial(glm(form, data = aug, family = binomial(), weights = w,
                              control = glm.control(epsilon = 1e-14, maxit = 100)))
    rows[[length(rows) + 1]] <- glht_rows("glm_ordered", f, fit, "group", lv,
                                          names(coef(fit, complete = FALSE)), n = nrow(d))
  }
  write_ref(do.call(rbind, rows), "fibromyalgia_terms.tsv")
  cat("fibromyalgia genera:", ncol(tss), "\n")
}

# ---- hmp2: LMM and logistic GLMM with a random intercept per subject -----------------------
if ("hmp2" %in% parts) {
  hdir <- file.path(data_dir, "hmp2")
  meta <- read.delim(file.path(hdir, "HMP2_metadata.tsv"), stringsAsFactors = FALSE)
  tax <- read.delim(gzfile(file.path(hdir, "HMP2_taxonomy.tsv.gz")), check.names = FALSE,
                    stringsAsFactors = FALSE)
  tax <- tax[match(meta$ID, tax$ID), ]
  stopifnot(identical(tax$ID, meta$ID))
  abund <- as.matrix(tax[, -1])
  tss <- abund / rowSums(abund)
  keep <- !is.na(meta$age)
  meta <- meta[keep, ]
  tss <- tss[keep, ]
  meta$diagnosis <- factor(meta$diagnosis, levels = c("nonIBD", "UC", "CD"))
  lv <- levels(meta$diagnosis)
  tight_lmer <- lmerControl(optimizer = "nloptwrap",
                            optCtrl = list(ftol_abs = 1e-15, ftol_rel = 1e-15, xtol_abs = 1e-13,
                                           xtol_rel = 1e-13, maxeval = 1e5))
  tight_glmer <- glmerControl(optimizer = "nloptwrap", tolPwrss = 1e-12,
                              optCtrl = list(algorithm = "NLOPT_LN_BOBYQA", xtol_rel = 1e-12,
                                             ftol_abs = 1e-12, ftol_rel = 1e-14, maxeval = 1e5))
  rows <- list()
  species <- colnames(tss)
  for (f in species) {
    d <- data.frame(expr = ifelse(tss[, f] > 0, log2(tss[, f]), NA), meta)
    dn <- d[!is.na(d$expr), ]
    if (nrow(dn) < 30 || length(unique(dn$diagnosis)) < 3) next
    fit <- tryCatch(suppressMessages(lmerTest::lmer(expr ~ age + antibiotics + diagnosis + (1 | subject),
                                    data = dn, control = tight_lmer)), error = function(e) NULL)
    if (is.null(fit)) next
    L <- matrix(0, length(lv) - 1, length(fixef(fit)))
    L[cbind(seq_len(length(lv) - 1), match(paste0("diagnosis", lv[-1]), names(fixef(fit))))] <- 1
    ct <- contest(fit, L, rhs = 0)
    rows[[length(rows) + 1]] <- row("lmm_group", f, "diagnosis", "diagnosis",
                                    statistic = ct[["F value"]], num_df = ct[["NumDF"]],
                                    df = ct[["DenDF"]], pval = ct[["Pr(>F)"]], n = nrow(dn))
    Lo <- ordered_contrasts(names(fixef(fit)), "diagnosis", lv)
    for (i in seq_len(nrow(Lo))) {
      c1 <- contest(fit, matrix(Lo[i, ], nrow = 1), rhs = 0, joint = FALSE)
      rows[[length(rows) + 1]] <- row("lmm_ordered", f, "diagnosis", lv[i + 1],
                                      coef = c1[["Estimate"]], stderr = c1[["Std. Error"]],
                                      statistic = c1[["t value"]], df = c1[["df"]],
                                      pval = c1[["Pr(>|t|)"]], n = nrow(dn))
    }
  }
  for (f in species[seq(1, length(species), by = 8)]) {
    d <- data.frame(expr = as.numeric(tss[, f] > 0), meta)
    form <- expr ~ age + antibiotics + diagnosis + (1 | subject)
    aug <- augment(d, form, mixed = TRUE)
    full <- tryCatch(quiet_binomial(glmer(form, data = aug, family = binomial, weights = w,
                                          control = tight_glmer)), error = function(e) NULL)
    if (is.null(full)) next
    reduced <- quiet_binomial(glmer(update(form, ~ . - diagnosis), data = aug,
                                    family = binomial, weights = w, control = tight_glmer))
    a <- anova(reduced, full)
    rows[[length(rows) + 1]] <- row("glmm_group", f, "diagnosis", "diagnosis",
                                    statistic = a[2, "Chisq"], num_df = a[2, "Df"],
                                    pval = a[2, "Pr(>Chisq)"], n = nrow(d))
    rows[[length(rows) + 1]] <- glht_merMod_rows("glmm_ordered", f, full, "diagnosis", lv,
                                                 n = nrow(d))
  }
  write_ref(do.call(rbind, rows), "hmp2_terms.tsv")
}

# ---- absent_level: a group level absent from a feature's nonzero samples (LMM) --------------
if ("absent_level" %in% parts) {
  set.seed(9)
  n <- 72
  d <- data.frame(sample_id = sprintf("s%02d", seq_len(n)), subject = sprintf("p%02d", rep(1:24, each = 3)),
                  g = factor(rep(c("a", "b", "c"), length.out = n), levels = c("a", "b", "c")),
                  x = round(rnorm(n), 4))
  u <- rnorm(24)[as.integer(factor(d$subject))]
  y <- sapply(1:6, function(j) round(-8 + 0.5 * d$x + 0.4 * (d$g == "b") - 0.3 * (d$g == "c") +
                                       u + rnorm(n), 6))
  y[runif(length(y)) < 0.2] <- NA
  y[d$g == "c", 1] <- NA
  y[d$g == "b", 2] <- NA
  colnames(y) <- paste0("f", 1:6)
  write.table(cbind(d, y), file.path(out_dir, "absent_level_data.tsv"), sep = "\t", quote = FALSE,
              row.names = FALSE, na = "NA")
  tight_lmer <- lmerControl(optimizer = "nloptwrap",
                            optCtrl = list(ftol_abs = 1e-15, ftol_rel = 1e-15, xtol_abs = 1e-13,
                                           xtol_rel = 1e-13, maxeval = 1e5))
  rows <- list()
  for (f in colnames(y)) {
    dn <- data.frame(expr = y[, f], d)[!is.na(y[, f]), ]
    fit <- suppressMessages(lmerTest::lmer(expr ~ x + g + (1 | subject), data = dn,
                                           control = tight_lmer))
    present <- intersect(paste0("g", levels(d$g)[-1]), names(fixef(fit)))
    L <- matrix(0, length(present), length(fixef(fit)))
    L[cbind(seq_along(present), match(present, names(fixef(fit))))] <- 1
    ct <- contest(fit, L, rhs = 0)
    rows[[length(rows) + 1]] <- row("lmm_group", f, "g", "g", statistic = ct[["F value"]],
                                    num_df = ct[["NumDF"]], df = ct[["DenDF"]],
                                    pval = ct[["Pr(>F)"]], n = nrow(dn))
    co <- coef(summary(fit))["x", ]
    rows[[length(rows) + 1]] <- row("lmm_group", f, "x", "x", coef = co[["Estimate"]],
                                    stderr = co[["Std. Error"]], statistic = co[["t value"]],
                                    df = co[["df"]], pval = co[["Pr(>|t|)"]], n = nrow(dn))
  }
  write_ref(do.call(rbind, rows), "absent_level_terms.tsv")
}

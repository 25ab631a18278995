# Reference fits for gutaxis.stats.models.conditional_logistic, made with R + survival::clogit.
#
# Run from the repository root:  Rscript tests/reference/clogit/make_clogit_reference.R
# R 4.2.2, survival 3.5-3. Runs in a few seconds.
#
# Inputs written here (so Python reads exactly the data R fitted):
#   synthetic_data.tsv   set.seed(20261205): 150 rows; `pair` (75 matched pairs), `stratum`
#                        (30 strata of sizes 2..8), covariates x1 (normal), x2 (0/1), and six
#                        binary outcomes y1..y6 drawn from a logistic model with a random
#                        stratum intercept (so some strata are concordant: all 0 or all 1).
# Outputs (TSV, one row per dataset x method x outcome x term):
#   clogit_fits.tsv      columns dataset, method, augmented, outcome, term, coef, stderr, z, p,
#                        loglik (the final log partial likelihood), n_events.
#   dataset  pairs:   strata = pair;    stratum: strata = stratum;
#            hmp2:    HMP2 (../shared/data/hmp2), presence (> 0) of the 8 species with the most
#                     variable presence, ~ antibiotics + age + strata(subject) (age is constant
#                     within a subject, so clogit reports it NA: the aliased-term case).
#   method   exact:   clogit(method = "exact") (the exact conditional likelihood);
#            breslow: clogit(method = "breslow") (Breslow's approximation, MaAsLin 3's choice).
#   augmented TRUE:   MaAsLin 3's prevalence model with strata (fit.R,
#                     choose_ranef_model_summary_funs_logistic + augment_data): every row is
#                     added twice more, once with outcome 1 and once with 0, each of weight
#                     p / (2 n) (p = fixed-effect columns without the intercept, n = rows),
#                     fitted by clogit(method = "breslow", weights, robust = FALSE,
#                     coxph.control(iter.max = 1000)); MaAsLin 3 keeps coef, se(coef) and
#                     Pr(>|z|) (the model-based, not the robust, standard error).
# Tolerance used by the tests: 1e-6 on coefficients and standard errors (coxph stops when the
# relative change of the log likelihood is below 1e-9; a tighter control is used here, eps 1e-11).
suppressPackageStartupMessages(library(survival))
out_dir <- "tests/reference/clogit"
data_dir <- Sys.getenv("GUTAXIS_SHARED_DATA", "../shared/data")
ctrl <- coxph.control(iter.max = 1000, eps = 1e-11)

set.seed(20261205)
sizes <- c(rep(2:8, length.out = 30))
sizes[30] <- 150 - sum(sizes[1:29])
stopifnot(sum(sizes) == 150, all(sizes >= 2))
d <- data.frame(pair = rep(sprintf("p%02d", 1:75), each = 2),
                stratum = rep(sprintf("s%02d", 1:30), times = sizes),
                x1 = round(rnorm(150), 4), x2 = rbinom(150, 1, 0.4))
u <- rnorm(30)[as.integer(factor(d$stratum))]
v <- rnorm(75)[as.integer(factor(d$pair))]
betas <- list(c(-0.5, 1.0, 0.0), c(0.3, -0.7, 0.8), c(0.0, 0.4, -1.2),
              c(-1.0, 0.0, 0.5), c(0.5, 1.5, 0.3), c(-0.2, -0.3, -0.4))
for (k in seq_along(betas)) {
  b <- betas[[k]]
  eta <- b[1] + b[2] * d$x1 + b[3] * d$x2 + ifelse(k %% 2 == 0, 1, 0.5) * (u + v)
  d[[paste0("y", k)]] <- rbinom(150, 1, plogis(eta))
}
write.table(d, file.path(out_dir, "synthetic_data.tsv"), sep = "\t", quote = FALSE,
            row.names = FALSE)

tidy <- function(fit, dataset, method, augmented, outcome, terms) {
  tab <- coef(summary(fit))
  rows <- match(terms, gsub("`", "", rownames(tab)))
  data.frame(dataset = dataset, method = method, augmented = augmented, outcome = outcome,
             term = terms, coef = tab[rows, "coef"], stderr = tab[rows, "se(coef)"],
             z = tab[rows, "z"], p = tab[rows, "Pr(>|z|)"],
             loglik = fit$loglik[2], n_events = fit$nevent, row.names = NULL)
}

augment <- function(dd, p) {  # MaAsLin 3's augment_data, rewritten
  n <- nrow(dd)
  aug <- rbind(dd, dd, dd)
  aug$y[(n + 1):(2 * n)] <- 1
  aug$y[(2 * n + 1):(3 * n)] <- 0
  aug$w <- c(rep(1, n), rep(p / (2 * n), 2 * n))
  aug
}

fit_all <- function(dd, dataset, strata, covariates, outcomes, terms) {
  out <- list()
  f <- as.formula(paste("y ~", paste(covariates, collapse = " + "),
                        "+ strata(", strata, ")"))
  for (y in outcomes) {
    dd$y <- dd[[y]]
    for (method in c("exact", "breslow")) {
      fit <- clogit(f, data = dd, method = method, control = ctrl)
      out[[length(out) + 1]] <- tidy(fit, dataset, method, FALSE, y, terms)
    }
    p <- ncol(model.matrix(as.formula(paste("~", paste(covariates, collapse = " + "))),
                           dd)) - 1
    aug <- augment(dd, p)
    fit <- clogit(f, data = aug, method = "breslow", weights = w, robust = FALSE,
                  control = ctrl)
    out[[length(out) + 1]] <- tidy(fit, dataset, "breslow", TRUE, y, terms)
  }
  do.call(rbind, out)
}

res <- rbind(
  fit_all(d, "pairs", "pair", c("x1", "x2"), paste0("y", 1:6), c("x1", "x2")),
  fit_all(d, "stratum", "stratum", c("x1", "x2"), paste0("y", 1:6), c("x1", "x2")))

meta <- read.delim(file.path(data_dir, "hmp2", "HMP2_metadata.tsv"), stringsAsFactors = FALSE)
tax <- read.delim(gzfile(file.path(data_dir, "hmp2", "HMP2_taxonomy.tsv.gz")),
                  check.names = FALSE, stringsAsFactors = FALSE)
meta <- meta[complete.cases(meta), ]
tax <- tax[match(meta$ID, tax$ID), ]
stopifnot(identical(tax$ID, meta$ID))
pres <- tax[, setdiff(colnames(tax), "ID")] > 0
prev <- colMeans(pres)
top <- names(sort(abs(prev - 0.5)))[1:8]
h <- data.frame(subject = meta$subject, antibiotics = meta$antibiotics, age = meta$age)
for (k in seq_along(top)) h[[paste0("sp", k)]] <- as.integer(pres[, top[k]])
# exact is slow on HMP2's large strata (up to ~30 samples per subject): breslow only there
hm <- list()
f <- y ~ antibiotics + age + strata(subject)
for (k in seq_along(top)) {
  h$y <- h[[paste0("sp", k)]]
  fit <- clogit(f, data = h, method = "breslow", control = ctrl)
  hm[[length(hm) + 1]] <- tidy(fit, "hmp2", "breslow", FALSE, top[k],
                               c("antibioticsYes", "age"))
  aug <- augment(h, 2)
  fit <- clogit(f, data = aug, method = "breslow", weights = w, robust = FALSE, control = ctrl)
  hm[[length(hm) + 1]] <- tidy(fit, "hmp2", "breslow", TRUE, top[k], c("antibioticsYes", "age"))
}
res <- rbind(res, do.call(rbind, hm))
res$coef <- signif(res$coef, 14)
res$stderr <- signif(res$stderr, 14)
write.table(res, file.path(out_dir, "clogit_fits.tsv"), sep = "\t", quote = FALSE,
            row.names = FALSE)
cat("wrote", nrow(res), "rows\n")

# MaAsLin 3 reference fixtures for gutaxis (issue 9, item 6).
#
# Runs maaslin3() 0.99.1 (installed with install_maaslin3.sh into a private library) on
# HMP2 and on the fibromyalgia cohort and writes compact, gzipped TSVs of its
# all_results rows next to this script. See README.md for what each file is.
#
# Usage (from the repository root):
#   R_LIBS=/work/m3lib Rscript tests/reference/maaslin3/make_fixtures.R DATA_DIR [PART ...]
# DATA_DIR holds hmp2/ and fibromyalgia/ (the shared data folder). PARTs (default: all):
#   hmp2_seed1 hmp2_seed2 hmp2_nomedian hmp2_glmer fibro_seed1 fibro_nomedian
#   fibro_ordered fibro_group hmp2_strata fibro_unscaled
# Each part appends its wall time to timings.tsv.

suppressPackageStartupMessages({
    library(maaslin3)
    library(lme4)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: make_fixtures.R DATA_DIR [PART ...]")
data_dir <- args[1]
all_parts <- c("hmp2_seed1", "hmp2_seed2", "hmp2_nomedian", "hmp2_glmer", "fibro_seed1",
               "fibro_nomedian",
               "fibro_ordered", "fibro_group", "hmp2_strata", "fibro_unscaled")
parts <- if (length(args) > 1) args[-1] else all_parts
stopifnot(all(parts %in% all_parts))
here <- local({
    file_arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
    dirname(normalizePath(sub("^--file=", "", file_arg[1])))
})

result_columns <- c("feature", "metadata", "value", "name", "coef", "stderr",
                    "pval_individual", "qval_individual", "pval_joint", "qval_joint",
                    "error", "model", "N", "N_not_zero")

write_gz <- function(df, name) {
    for (col in names(df)) {
        if (is.double(df[[col]])) df[[col]] <- signif(df[[col]], 12)
        # MaAsLin 3's warn_prevalence message has a line break inside: one line a row
        if (is.character(df[[col]])) df[[col]] <- gsub("\\s*\n\\s*", " ", df[[col]])
    }
    con <- gzfile(file.path(here, name), "w")
    write.table(df, con, sep = "\t", quote = FALSE, row.names = FALSE, na = "NA")
    close(con)
}

record_time <- function(part, seconds) {
    path <- file.path(here, "timings.tsv")
    line <- data.frame(part = part, seconds = round(seconds, 1),
                       r_version = paste(R.version$major, R.version$minor, sep = "."),
                       maaslin3 = as.character(packageVersion("maaslin3")),
                       lme4 = as.character(packageVersion("lme4")),
                       date = format(Sys.time(), "%Y-%m-%d"))
    write.table(line, path, sep = "\t", quote = FALSE, row.names = FALSE,
                append = file.exists(path), col.names = !file.exists(path))
}

# ---- inputs ------------------------------------------------------------------------------
read_hmp2 <- function() {
    tax <- read.delim(gzfile(file.path(data_dir, "hmp2", "HMP2_taxonomy.tsv.gz")),
                      row.names = 1, check.names = FALSE)
    meta <- read.delim(file.path(data_dir, "hmp2", "HMP2_metadata.tsv"), row.names = 1)
    list(data = tax, metadata = meta)
}

read_fibro <- function() {
    counts <- read.delim(gzfile(file.path(data_dir, "fibromyalgia", "feature-table.tsv.gz")),
                         row.names = 1, check.names = FALSE)
    meta <- read.delim(file.path(data_dir, "fibromyalgia", "metadata.tsv"), row.names = 1)
    # samples x features, as MaAsLin 3 reads it either way
    list(data = as.data.frame(t(counts)), metadata = meta)
}

HMP2_FORMULA <- paste("~ diagnosis + dysbiosisnonIBD + dysbiosisUC + dysbiosisCD +",
                      "antibiotics + age + (1|site) + (1|subject)")
FIBRO_FORMULA <- "~ group + covariate_age + covariate_imc + covariate_sii"

run_maaslin3 <- function(part, input, formula, ..., seed = 1) {
    out <- file.path(tempdir(), part)
    unlink(out, recursive = TRUE)
    set.seed(seed)
    started <- proc.time()[["elapsed"]]
    fit <- maaslin3(input_data = input$data, input_metadata = input$metadata, output = out,
                    formula = formula, plot_summary_plot = FALSE, plot_associations = FALSE,
                    verbosity = "ERROR", cores = 1, ...)
    seconds <- proc.time()[["elapsed"]] - started
    record_time(part, seconds)
    res <- read.delim(file.path(out, "all_results.tsv"), check.names = FALSE)
    stopifnot(all(result_columns %in% names(res)),
              nrow(res) == nrow(fit$fit_data_abundance$results) +
                  nrow(fit$fit_data_prevalence$results))
    write_gz(res[, result_columns], paste0(part, ".tsv.gz"))
    message(sprintf("%s: %d rows in %.1f s", part, nrow(res), seconds))
    fit
}

# ---- (c) glmer refits with tight tolerances -----------------------------------------------
# For every prevalence model MaAsLin 3 fitted with glmer, evaluate one Laplace objective
# function (lme4's own deviance function for that data, formula and weights) at MaAsLin 3's
# estimates and at the better of two tightly converged refits of the same model: bobyqa
# from lme4's default start, and nloptwrap restarted from MaAsLin 3's estimates. (A third,
# Nelder-Mead with tight tolerances, took ~35 s a feature and was
# no better on the HMP2 feature it was tried on.)
laplace_objective <- function(fit) {
    fr <- fit@frame
    fr$.prior_weights <- weights(fit)
    devfun <- glmer(formula(fit), data = fr, family = binomial, weights = .prior_weights,
                    devFunOnly = TRUE)
    function(theta, beta) devfun(c(theta, beta))
}

tight_fits <- function(fit) {
    fr <- fit@frame
    fr$.prior_weights <- weights(fit)
    form <- formula(fit)
    refit <- function(control, start = NULL) {
        tryCatch(suppressWarnings(suppressMessages(
            glmer(form, data = fr, family = binomial, weights = .prior_weights,
                  control = control, start = start))), error = function(e) NULL)
    }
    tight <- list(
        bobyqa = refit(glmerControl(optimizer = "bobyqa", tolPwrss = 1e-10,
                                    optCtrl = list(rhobeg = 0.02, rhoend = 1e-10,
                                                   maxfun = 1e5))),
        nlopt_from_maaslin = refit(glmerControl(optimizer = "nloptwrap", tolPwrss = 1e-10,
                                                optCtrl = list(xtol_abs = 1e-12,
                                                               ftol_abs = 1e-14,
                                                               xtol_rel = 0, ftol_rel = 0,
                                                               maxeval = 1e5)),
                                   start = list(theta = getME(fit, "theta"),
                                                fixef = fixef(fit)))
    )
    tight[!vapply(tight, is.null, logical(1))]
}

glmer_refits <- function(prevalence_fits, cores = 2) {
    one_feature <- function(feature) {
        fit <- prevalence_fits[[feature]]
        if (!inherits(fit, "glmerMod")) return(NULL)
        objective <- laplace_objective(fit)
        maaslin_obj <- objective(getME(fit, "theta"), fixef(fit))
        candidates <- tight_fits(fit)
        objs <- vapply(candidates, function(f) objective(getME(f, "theta"), fixef(f)),
                       numeric(1))
        best <- candidates[[which.min(objs)]]
        co <- coef(summary(best))
        data.frame(
            feature = feature,
            term = rownames(co),
            maaslin_optimizer = fit@optinfo$optimizer,
            maaslin_objective = maaslin_obj,
            tight_objective = min(objs),
            tight_method = names(candidates)[which.min(objs)],
            objective_bobyqa = if ("bobyqa" %in% names(objs)) objs[["bobyqa"]] else NA,
            objective_nlopt_from_maaslin =
                if ("nlopt_from_maaslin" %in% names(objs)) objs[["nlopt_from_maaslin"]] else NA,
            tight_coef = co[, "Estimate"],
            tight_stderr = co[, "Std. Error"],
            maaslin_coef = fixef(fit)[rownames(co)],
            tight_theta = paste(signif(getME(best, "theta"), 12), collapse = ","),
            maaslin_theta = paste(signif(getME(fit, "theta"), 12), collapse = ","),
            n_obs = nobs(fit)
        )
    }
    rows <- parallel::mclapply(names(prevalence_fits), one_feature, mc.cores = cores)
    out <- do.call(rbind, rows)
    rownames(out) <- NULL
    out
}

# MaAsLin 3's prevalence glmer fits, made by its own steps (read, reorder, formula, TSS,
# filter, metadata, presence mask, fit.model with augmentation) as maaslin3() makes them,
# without the abundance part. (maaslin3(evaluate_only = "prevalence") fails in 0.99.1.)
maaslin3_prevalence_fits <- function(input, formula, reference, cores = 2) {
    out <- file.path(tempdir(), "prevalence_only")
    dir.create(out, showWarnings = FALSE)
    read <- maaslin_read_data(input$data, input$metadata)
    read <- maaslin_reorder_data(read$data, read$metadata)
    formulas <- maaslin_check_formula(read$data, read$metadata, formula)
    normalized <- maaslin_normalize(read$data, out, 0, "TSS")
    filtered <- maaslin_filter(normalized, out, 0, 0, 0, 0)
    metadata <- maaslin_process_metadata(read$metadata, formulas$formula, NULL, reference,
                                         NULL, TRUE)
    prevalence_mask <- ifelse(!is.na(filtered), 1, 0)
    fit <- maaslin3:::fit.model(features = prevalence_mask, metadata = metadata,
                                model = "logistic", formula = formulas$formula,
                                random_effects_formula = formulas$random_effects_formula,
                                correction = "BH", save_models = TRUE, augment = TRUE,
                                cores = cores)
    fit$fits
}

# ---- the parts ---------------------------------------------------------------------------
hmp2 <- NULL
fibro <- NULL
get_hmp2 <- function() { if (is.null(hmp2)) hmp2 <<- read_hmp2(); hmp2 }
get_fibro <- function() { if (is.null(fibro)) fibro <<- read_fibro(); fibro }

for (part in parts) {
    if (part %in% c("hmp2_seed1", "hmp2_seed2")) {
        run_maaslin3(part, get_hmp2(), HMP2_FORMULA, reference = "diagnosis,nonIBD",
                     seed = if (part == "hmp2_seed1") 1 else 2)
    } else if (part == "hmp2_nomedian") {
        run_maaslin3(part, get_hmp2(), HMP2_FORMULA, reference = "diagnosis,nonIBD",
                     median_comparison_abundance = FALSE)
    } else if (part == "hmp2_glmer") {
        started <- proc.time()[["elapsed"]]
        fits <- maaslin3_prevalence_fits(get_hmp2(), HMP2_FORMULA, "diagnosis,nonIBD")
        record_time("hmp2_glmer_maaslin_fits", proc.time()[["elapsed"]] - started)
        started <- proc.time()[["elapsed"]]
        refits <- glmer_refits(fits)
        record_time("hmp2_glmer_tight_refits", proc.time()[["elapsed"]] - started)
        write_gz(refits, "hmp2_nomedian_glmer_tight.tsv.gz")
    } else if (part %in% c("fibro_seed1", "fibro_nomedian")) {
        run_maaslin3(part, get_fibro(), FIBRO_FORMULA, reference = "group,ctl",
                     min_prevalence = 0.1,
                     median_comparison_abundance = part == "fibro_seed1")
    } else if (part %in% c("fibro_ordered", "fibro_group")) {
        input <- get_fibro()
        input$metadata$group <- factor(input$metadata$group,
                                       levels = c("ctl", "fbm_12_20", "fbm_21_25", "fbm_26_31"))
        special <- if (part == "fibro_ordered") "ordered(group)" else "group(group)"
        run_maaslin3(part, input, paste("~", special, "+ covariate_age"),
                     min_prevalence = 0.1, median_comparison_abundance = FALSE)
    } else if (part == "hmp2_strata") {
        run_maaslin3(part, get_hmp2(), "~ antibiotics + strata(subject)",
                     median_comparison_abundance = FALSE)
    } else if (part == "fibro_unscaled") {
        input <- get_fibro()
        load_path <- file.path(here, "fibro_total_load.tsv")
        if (!file.exists(load_path)) {
            # A deterministic synthetic microbial load (cells per gram) for each sample.
            set.seed(42)
            load <- data.frame(sample_id = rownames(input$metadata),
                               total = signif(rlnorm(nrow(input$metadata), meanlog = log(1e11),
                                                     sdlog = 0.8), 8))
            write.table(load, load_path, sep = "\t", quote = FALSE, row.names = FALSE)
        }
        load <- read.delim(load_path, row.names = 1)
        run_maaslin3(part, input, FIBRO_FORMULA, reference = "group,ctl",
                     min_prevalence = 0.1, median_comparison_abundance = FALSE,
                     unscaled_abundance = load)
    }
}

# Reference outputs for gutaxis.stats.trial (see README.md). Run from this folder:
#   nice Rscript make_fixture.R
# Simulates a two-arm pain trial (fixed seed), writes the data and the outputs of
# lm, lme4/lmerTest and metafor that tests/stats/trial/ compare against.
suppressPackageStartupMessages({library(lme4); library(lmerTest); library(metafor)})
options(digits = 17)
RNGversion("4.2.0"); set.seed(20261205)

n <- 63
arm <- rep(c("placebo", "probiotic"), c(32, 31))
subject <- sprintf("S%02d", seq_len(n))
age <- round(rnorm(n, 48, 11))
sex <- sample(c("F", "M"), n, replace = TRUE, prob = c(0.8, 0.2))
baseline <- round(pmin(10, pmax(4, rnorm(n, 6.6, 1.2))), 1)
u <- rnorm(n, 0, 1.0)                       # subject random intercept
weeks <- c(4, 8, 12)
long <- expand.grid(k = seq_along(weeks), i = seq_len(n))
i <- long$i; w <- weeks[long$k]
effect <- ifelse(arm[i] == "probiotic", -0.09 * w, 0)   # benefit grows with time
pain <- 1.2 + 0.72 * baseline[i] - 0.03 * w + effect + 0.01 * (age[i] - 48) + u[i] +
  rnorm(length(i), 0, 0.9)
pain <- round(pmin(10, pmax(0, pain)), 1)
long <- data.frame(subject = subject[i], arm = arm[i], age = age[i], sex = sex[i],
                   baseline = baseline[i], visit = paste0("week", w), pain = pain)
# dropouts: a few subjects miss their later visits (left out, as lm/lmer do by default)
drop <- (long$subject %in% c("S05", "S40") & long$visit == "week12") |
        (long$subject == "S17" & long$visit %in% c("week8", "week12"))
long$pain[drop] <- NA
write.csv(long, "trial_long.csv", row.names = FALSE, na = "")
wide <- long[long$visit == "week12", c("subject", "arm", "age", "sex", "baseline", "pain")]
names(wide)[names(wide) == "pain"] <- "week12"
write.table(wide, "trial_wide.tsv", sep = "\t", row.names = FALSE, quote = FALSE, na = "")

coef_table <- function(fit, analysis) {
  s <- summary(fit)$coefficients
  ci <- confint.default(fit)  # replaced below for lm by t intervals
  data.frame(analysis = analysis, term = rownames(s), estimate = s[, 1], stderr = s[, 2],
             statistic = s[, 3], pval = s[, ncol(s)], row.names = NULL)
}
cc <- wide[!is.na(wide$week12), ]
cc$arm <- factor(cc$arm, levels = c("placebo", "probiotic"))
ancova <- lm(week12 ~ arm + baseline + age + sex, data = cc)
a <- coef_table(ancova, "ancova"); a$df <- ancova$df.residual
a$ci_low <- confint(ancova)[, 1]; a$ci_high <- confint(ancova)[, 2]
ancova0 <- lm(week12 ~ arm + baseline, data = cc)
a0 <- coef_table(ancova0, "ancova_unadjusted"); a0$df <- ancova0$df.residual
a0$ci_low <- confint(ancova0)[, 1]; a0$ci_high <- confint(ancova0)[, 2]
cc$change <- cc$week12 - cc$baseline
chg <- lm(change ~ arm, data = cc)
ch <- coef_table(chg, "change"); ch$df <- chg$df.residual
ch$ci_low <- confint(chg)[, 1]; ch$ci_high <- confint(chg)[, 2]
tt <- t.test(change ~ arm, data = cc, var.equal = TRUE)  # placebo - probiotic
stopifnot(abs(unname(-diff(tt$estimate)) + coef(chg)[2]) < 1e-12)

# LMM over visits, baseline-adjusted, random intercept per subject (REML, Satterthwaite)
lo <- long[!is.na(long$pain), ]
lo$arm <- factor(lo$arm, levels = c("placebo", "probiotic"))
lo$visit <- factor(lo$visit, levels = c("week4", "week8", "week12"))
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 2e-4, rhoend = 2e-12,
                                                          maxfun = 1e5))
lmm <- lmer(pain ~ baseline + arm * visit + (1 | subject), data = lo, REML = TRUE,
            control = ctrl)
s <- summary(lmm)$coefficients
l <- data.frame(analysis = "lmm", term = rownames(s), estimate = s[, 1], stderr = s[, 2],
                statistic = s[, 4], pval = s[, 5], df = s[, 3], row.names = NULL)
l$ci_low <- l$estimate - qt(0.975, l$df) * l$stderr
l$ci_high <- l$estimate + qt(0.975, l$df) * l$stderr
# treatment effect at each visit and averaged over visits (Satterthwaite, lmerTest::contest)
p <- length(fixef(lmm)); nm <- names(fixef(lmm))
L <- rbind(week4 = as.numeric(nm == "armprobiotic"),
           week8 = as.numeric(nm %in% c("armprobiotic", "armprobiotic:visitweek8")),
           week12 = as.numeric(nm %in% c("armprobiotic", "armprobiotic:visitweek12")))
L <- rbind(L, average = colMeans(L))
v <- do.call(rbind, lapply(rownames(L), function(r) {
  ct <- contest(lmm, L[r, ], joint = FALSE, confint = TRUE)
  data.frame(analysis = "lmm_arm_at_visit", term = r, estimate = ct$Estimate,
             stderr = ct$`Std. Error`, statistic = ct$`t value`, pval = ct$`Pr(>|t|)`,
             df = ct$df, ci_low = ct$lower, ci_high = ct$upper)
}))
vc <- as.data.frame(VarCorr(lmm))
varcomp <- data.frame(analysis = "lmm_variance", term = c("subject", "residual"),
                      estimate = vc$vcov, stderr = NA, statistic = NA, pval = NA, df = NA,
                      ci_low = NA, ci_high = NA)

# Hedges g (metafor escalc SMD: exact bias correction, large-sample variance)
grp <- split(cc, cc$arm)
smd <- function(col, label) {
  tr <- grp$probiotic[[col]]; pl <- grp$placebo[[col]]
  e <- escalc(measure = "SMD", m1i = mean(tr), sd1i = sd(tr), n1i = length(tr),
              m2i = mean(pl), sd2i = sd(pl), n2i = length(pl))
  data.frame(analysis = "hedges_g", term = label, estimate = e$yi[1],
             stderr = sqrt(e$vi[1]), statistic = e$yi[1] / sqrt(e$vi[1]),
             pval = 2 * pnorm(-abs(e$yi[1] / sqrt(e$vi[1]))), df = NA,
             ci_low = e$yi[1] - qnorm(0.975) * sqrt(e$vi[1]),
             ci_high = e$yi[1] + qnorm(0.975) * sqrt(e$vi[1]))
}
g <- rbind(smd("change", "change"), smd("week12", "followup"))

# responders: reduction >= 30% / 50% from baseline (lower pain is better)
cc$reduction <- (cc$baseline - cc$week12) / cc$baseline
resp <- do.call(rbind, lapply(c(30, 50), function(cut) {
  r <- cc$reduction >= cut / 100
  x1 <- sum(r[cc$arm == "probiotic"]); n1 <- sum(cc$arm == "probiotic")
  x0 <- sum(r[cc$arm == "placebo"]); n0 <- sum(cc$arm == "placebo")
  w1 <- prop.test(x1, n1, correct = FALSE)$conf.int
  w0 <- prop.test(x0, n0, correct = FALSE)$conf.int
  p1 <- x1 / n1; p0 <- x0 / n0; rd <- p1 - p0
  # Newcombe (1998) method 10: hybrid score interval from the two Wilson intervals
  lo_ <- rd - sqrt((p1 - w1[1])^2 + (w0[2] - p0)^2)
  hi_ <- rd + sqrt((w1[2] - p1)^2 + (p0 - w0[1])^2)
  rr <- escalc(measure = "RR", ai = x1, n1i = n1, ci = x0, n2i = n0)
  or <- escalc(measure = "OR", ai = x1, bi = n1 - x1, ci = x0, di = n0 - x0)
  a <- paste0("responder_", cut)
  data.frame(analysis = a,
             term = c("proportion_probiotic", "proportion_placebo", "rd", "log_rr", "log_or"),
             estimate = c(p1, p0, rd, rr$yi, or$yi),
             stderr = c(NA, NA, NA, sqrt(rr$vi), sqrt(or$vi)), statistic = NA, pval = NA,
             df = NA,
             ci_low = c(w1[1], w0[1], lo_, rr$yi - qnorm(0.975) * sqrt(rr$vi),
                        or$yi - qnorm(0.975) * sqrt(or$vi)),
             ci_high = c(w1[2], w0[2], hi_, rr$yi + qnorm(0.975) * sqrt(rr$vi),
                         or$yi + qnorm(0.975) * sqrt(or$vi)),
             count = c(x1, x0, NA, NA, NA), n = c(n1, n0, NA, NA, NA))
}))

out <- rbind(a, a0, ch, l, v, varcomp, g)
out$count <- NA; out$n <- NA
out <- rbind(out, resp)
write.table(out, "reference.tsv", sep = "\t", row.names = FALSE, quote = FALSE, na = "NA")
writeLines(c(R.version.string,
             paste("lme4", packageVersion("lme4")), paste("lmerTest", packageVersion("lmerTest")),
             paste("metafor", packageVersion("metafor")),
             paste("REML criterion", format(REMLcrit(lmm), digits = 17))),
           "versions.txt")

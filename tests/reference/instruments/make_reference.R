# Independent reference values for gutaxis instrument scoring.
#
# Written in base R directly from the scoring rules in docs/research/instruments.md
# (not translated from the Python code), with the same recorded conventions:
#   DAS28 4/3-variable formulas (natural log); CDAI; SDAI (CRP mg/dL);
#   IPAQ-SF cleaning order (missing -> exclude; per-day sum > 960 -> exclude;
#   < 10 min -> 0 min and 0 days; > 180 min -> 180) and categories;
#   PSQI components with conventions psqi-c3-v1 and psqi-c4-v1;
#   FIQR with one prorated function item; WOMAC LK3.1 mean substitution.
# Run from this folder:  Rscript make_reference.R   (R 4.x, base R only)
# Writes das28.tsv, cdai_sdai.tsv, ipaq.tsv, psqi.tsv, fiqr.tsv, womac.tsv.

set.seed(20241125)
n <- 400
out <- function(df, file) write.table(df, file, sep = "\t", quote = FALSE,
                                      row.names = FALSE, na = "")
num <- function(x) ifelse(is.na(x), "", trimws(formatC(x, digits = 17, format = "g")))

# ---------------------------------------------------------------- DAS28
tjc <- sample(0:28, n, TRUE); sjc <- sample(0:28, n, TRUE)
esr <- sample(1:120, n, TRUE); crp <- round(runif(n, 0, 100), 1)
gh <- sample(0:100, n, TRUE)
joints <- 0.56 * sqrt(tjc) + 0.28 * sqrt(sjc)
das <- data.frame(tjc28 = tjc, sjc28 = sjc, esr_mm_h = esr, crp_mg_l = crp, gh_mm = gh,
                  das28_esr4 = num(joints + 0.70 * log(esr) + 0.014 * gh),
                  das28_esr3 = num((joints + 0.70 * log(esr)) * 1.08 + 0.16),
                  das28_crp4 = num(joints + 0.36 * log(crp + 1) + 0.014 * gh + 0.96),
                  das28_crp3 = num((joints + 0.36 * log(crp + 1)) * 1.10 + 1.15))
out(das, "das28.tsv")

# ---------------------------------------------------------------- CDAI / SDAI
ptga <- sample(0:100, n, TRUE) / 10; evga <- sample(0:100, n, TRUE) / 10
crp_dl <- sample(0:150, n, TRUE) / 10
cdai <- tjc + sjc + ptga + evga
sdai <- cdai + crp_dl
band <- function(x, cuts, labels) {
  # cuts are upper-inclusive edges: x <= cuts[1] -> labels[1], ...
  sapply(x, function(v) labels[which(c(v <= cuts, TRUE))[1]])
}
out(data.frame(tjc28 = tjc, sjc28 = sjc, ptga_cm = ptga, evga_cm = evga, crp_mg_dl = crp_dl,
               cdai = num(cdai),
               cdai_band = band(cdai, c(2.8, 10, 22), c("remission", "low", "moderate", "high")),
               sdai = num(sdai),
               sdai_band = band(sdai, c(3.3, 11, 26), c("remission", "low", "moderate", "high"))),
    "cdai_sdai.tsv")

# ---------------------------------------------------------------- IPAQ-SF
mins <- c(0, 5, 9, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180, 200, 300, 400, 700)
d <- matrix(sample(0:7, 3 * n, TRUE), ncol = 3)
m <- matrix(sample(mins, 3 * n, TRUE), ncol = 3)
met_w <- c(8, 4, 3.3)  # vigorous, moderate, walking
ipaq <- t(sapply(seq_len(n), function(i) {
  days <- d[i, ]; minutes <- m[i, ]
  if (sum(minutes) > 960) return(c(NA, NA, NA, NA, NA))
  short <- minutes < 10
  minutes[short] <- 0; days[short] <- 0
  minutes <- pmin(minutes, 180)
  met <- met_w * minutes * days
  total <- sum(met); combined <- sum(days)
  high <- (days[1] >= 3 && total >= 1500) || (combined >= 7 && total >= 3000)
  modwalk <- sum(days[2:3][minutes[2:3] >= 30])
  moderate <- (days[1] >= 3 && minutes[1] >= 20) || modwalk >= 5 ||
    (combined >= 5 && total >= 600)
  c(met[3], met[2], met[1], total, if (high) 3 else if (moderate) 2 else 1)
}))
out(data.frame(vigorous_days = d[, 1], vigorous_min_per_day = m[, 1],
               moderate_days = d[, 2], moderate_min_per_day = m[, 2],
               walking_days = d[, 3], walking_min_per_day = m[, 3],
               walking_met = num(ipaq[, 1]), moderate_met = num(ipaq[, 2]),
               vigorous_met = num(ipaq[, 3]), total_met = num(ipaq[, 4]),
               category = ipaq[, 5]), "ipaq.tsv")

# ---------------------------------------------------------------- PSQI
bed_h <- sample(c(21, 22, 23, 0, 1), n, TRUE); bed_m <- sample(c(0, 15, 30, 45), n, TRUE)
rise_h <- sample(5:9, n, TRUE); rise_m <- sample(c(0, 10, 30, 50), n, TRUE)
latency <- sample(c(0, 10, 15, 16, 30, 31, 45, 60, 61, 90), n, TRUE)
hours <- sample(seq(3.5, 9.5, by = 0.25), n, TRUE)
items <- matrix(sample(0:3, 14 * n, TRUE), ncol = 14)  # 5a..5j (10), 6, 7, 8, 9
colnames(items) <- c("q5a_latency_30min", "q5b_wake_night", "q5c_bathroom", "q5d_breathing",
                     "q5e_cough_snore", "q5f_too_cold", "q5g_too_hot", "q5h_bad_dreams",
                     "q5i_pain", "q5j_other", "q6_sleep_quality", "q7_medication",
                     "q8_staying_awake", "q9_enthusiasm")
pair <- function(s) ifelse(s == 0, 0, ifelse(s <= 2, 1, ifelse(s <= 4, 2, 3)))
lat_pts <- (latency > 15) + (latency > 30) + (latency > 60)
c2 <- pair(lat_pts + items[, 1])
c3 <- ifelse(hours > 7, 0, ifelse(hours >= 6, 1, ifelse(hours >= 5, 2, 3)))
in_bed <- ((rise_h * 60 + rise_m) - (bed_h * 60 + bed_m)) %% 1440
eff <- pmin(hours * 60 / in_bed * 100, 100)
c4 <- ifelse(eff >= 85, 0, ifelse(eff >= 75, 1, ifelse(eff >= 65, 2, 3)))
dist <- rowSums(items[, 2:10])
c5 <- ifelse(dist == 0, 0, ifelse(dist <= 9, 1, ifelse(dist <= 18, 2, 3)))
c7 <- pair(items[, 13] + items[, 14])
global <- items[, 11] + c2 + c3 + c4 + c5 + items[, 12] + c7
hhmm <- function(h, m) sprintf("%02d:%02d", h, m)
out(data.frame(q1_bedtime = hhmm(bed_h, bed_m), q2_latency_min = latency,
               q3_rise_time = hhmm(rise_h, rise_m), q4_sleep_hours = hours, items,
               c1_quality = items[, 11], c2_latency = c2, c3_duration = c3,
               c4_efficiency = c4, c5_disturbances = c5, c6_medication = items[, 12],
               c7_daytime = c7, global = global), "psqi.tsv")

# ---------------------------------------------------------------- FIQR
fiqr_items <- matrix(sample(0:10, 21 * n, TRUE), ncol = 21)
drop <- sample(c(0, 0, 1, 2), n, TRUE)   # number of function items left unanswered
for (i in seq_len(n)) if (drop[i] > 0) fiqr_items[i, sample(1:9, drop[i])] <- NA
colnames(fiqr_items) <- c(paste0("function_", 1:9), paste0("overall_", 1:2),
                          paste0("symptom_", 1:10))
fx <- rowSums(!is.na(fiqr_items[, 1:9]))
fsum <- rowSums(fiqr_items[, 1:9], na.rm = TRUE) * 9 / fx
func <- ifelse(fx >= 8, fsum / 3, NA)
overall <- rowSums(fiqr_items[, 10:11]); symptoms <- rowSums(fiqr_items[, 12:21]) / 2
out(data.frame(fiqr_items, "function" = num(func), overall = overall,
               symptoms = num(symptoms), total = num(func + overall + symptoms),
               check.names = FALSE), "fiqr.tsv")

# ---------------------------------------------------------------- WOMAC
w <- matrix(sample(0:4, 24 * n, TRUE), ncol = 24)
for (i in seq_len(n)) {
  k <- sample(0:5, 1)
  if (k > 0) w[i, sample(1:24, k)] <- NA
}
colnames(w) <- c(paste0("p", 1:5), paste0("s", 1:2), paste0("f", 1:17))
sub <- function(cols, max_missing) {
  a <- rowSums(!is.na(w[, cols, drop = FALSE]))
  s <- rowSums(w[, cols, drop = FALSE], na.rm = TRUE) * length(cols) / a
  ifelse(length(cols) - a <= max_missing & a > 0, s, NA)
}
pain <- sub(1:5, 1); stiff <- sub(6:7, 1); fun <- sub(8:24, 3)
out(data.frame(w, pain = num(pain), stiffness = num(stiff), "function" = num(fun),
               total = num(pain + stiff + fun), check.names = FALSE), "womac.tsv")

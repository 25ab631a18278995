# Reference for Measurements.at_samples: data.table rolling joins on the HMP2 cohort.
# Run from this folder:  Rscript rolling_join.R ../../../../shared/data/hmp2/HMP2_metadata.tsv
# Writes diary.tsv (the simulated pain diary, so Python reads the very same values) and
# expected.tsv (the value each sample gets under three matching rules).
suppressPackageStartupMessages(library(data.table))
args <- commandArgs(trailingOnly = TRUE)
meta <- fread(args[1], sep = "\t")
stopifnot(nrow(meta) == 1595, uniqueN(meta$subject) == 130)
day <- 86400
# samples two weeks apart by visit number, from 2024-01-01T00:00:00Z (seconds since it)
samples <- data.table(sample_id = meta$ID, subject = meta$subject,
                      t = (meta$collection - 1) * 14 * day)
# pain diary: three entries per sample on average, jittered within +-12 days, at
# whole seconds, no two entries of a subject at the same instant
set.seed(20240301)
n <- 3 * nrow(samples)
pick <- sample.int(nrow(samples), n, replace = TRUE)
diary <- data.table(subject = samples$subject[pick],
                    t = samples$t[pick] + sample(-12 * day:(12 * day), n, replace = TRUE),
                    pain = sample(0:10, n, replace = TRUE))
diary <- unique(diary, by = c("subject", "t"))
setkey(diary, subject, t)
match_rule <- function(roll, limit) {
  hit <- diary[samples, on = .(subject, t), roll = roll,
               .(sample_id = i.sample_id, pain = x.pain, gap = abs(x.t - i.t))]
  hit[!is.na(gap) & gap > limit, pain := NA]
  hit$pain
}
expected <- data.table(
  sample_id = samples$sample_id,
  nearest_7d = match_rule("nearest", 7 * day),
  last_before_10d = match_rule(10 * day, 10 * day),
  nearest_any = match_rule("nearest", Inf)
)
fwrite(diary[, .(subject, seconds = t, pain)], "diary.tsv", sep = "\t")
fwrite(expected, "expected.tsv", sep = "\t", na = "NA")
cat(sprintf("data.table %s: %d diary entries, %d samples\n", packageVersion("data.table"),
            nrow(diary), nrow(expected)))

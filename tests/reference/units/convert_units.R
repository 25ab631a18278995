# Reference conversions for gutaxis.data.units, made with the R package `units`
# (UDUNITS-2). Run: Rscript convert_units.R  (writes udunits_conversions.tsv here)
# Every pair of units of the same kind of quantity that gutaxis knows, applied to a
# few values; UDUNITS-2 does the arithmetic in double precision.
suppressPackageStartupMessages(library(units))
kinds <- list(
  mass_concentration = c("g/L", "g/dL", "mg/mL", "mg/dL", "mg/L", "ug/mL", "ug/dL",
                         "ug/L", "ng/mL", "ng/L", "pg/mL"),
  mass_fraction = c("mg/g", "ug/g", "mg/kg", "ng/g", "ug/kg"),
  substance_concentration = c("mol/L", "mmol/L", "umol/L", "nmol/L", "pmol/L"),
  sedimentation_rate = c("mm/h")
)
values <- c(0.81, 1, 3.1, 12, 250)
rows <- list()
for (kind in names(kinds)) {
  for (from in kinds[[kind]]) for (to in kinds[[kind]]) for (v in values) {
    x <- set_units(v, from, mode = "standard")
    y <- set_units(x, to, mode = "standard")
    rows[[length(rows) + 1]] <- data.frame(value = v, from = from, to = to,
                                           result = sprintf("%.17g", drop_units(y)))
  }
}
out <- do.call(rbind, rows)
write.table(out, "udunits_conversions.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
cat(sprintf("units %s, udunits2; %d conversions\n", packageVersion("units"), nrow(out)))

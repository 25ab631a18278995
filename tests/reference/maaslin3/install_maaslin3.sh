#!/bin/sh
# Install MaAsLin 3 (0.99.1, github biobakery/maaslin3) from a source checkout into
# a private R library, patched only where Debian 12's R 4.2.2 needs it.
#
# Usage: install_maaslin3.sh SRC_DIR LIB_DIR
#
# Patches (applied with sed to a temporary copy; the source is not modified):
#   1. DESCRIPTION: 'Depends: R (>= 4.4)' -> 'Depends: R (>= 4.2)'.
#   2. DESCRIPTION: drop ggnewscale from Imports (Debian has no package for it;
#      it is used only inside a plotting function, which the fixtures never call:
#      plot_summary_plot = FALSE, plot_associations = FALSE).
#   3. R/utility_scripts.R: 'TRUE ~ NA' -> 'TRUE ~ NA_character_' in the one
#      dplyr::case_when() call (Debian's dplyr 1.0.10 requires every branch to have the
#      type of the others; dplyr >= 1.1 casts the bare NA itself, so the result is the same).
# Nothing else is changed; no MaAsLin 3 code is kept in this repository.
set -eu
if [ $# -ne 2 ]; then
    echo "usage: $0 SRC_DIR LIB_DIR" >&2
    exit 2
fi
src=$1
lib=$2
[ -f "$src/DESCRIPTION" ] || { echo "no DESCRIPTION in $src" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$src" "$tmp/maaslin3"
desc="$tmp/maaslin3/DESCRIPTION"
sed -i 's/R (>= 4\.4)/R (>= 4.2)/' "$desc"
sed -i 's/ggnewscale, *//; s/, *ggnewscale//' "$desc"
util="$tmp/maaslin3/R/utility_scripts.R"
sed -i 's/TRUE ~ NA$/TRUE ~ NA_character_/' "$util"
grep -q 'TRUE ~ NA_character_' "$util" || { echo "patch failed: case_when NA" >&2; exit 1; }
grep -q ggnewscale "$desc" && { echo "patch failed: ggnewscale still in DESCRIPTION" >&2; exit 1; }
grep -q 'R (>= 4.2)' "$desc" || { echo "patch failed: Depends line" >&2; exit 1; }
mkdir -p "$lib"
R CMD INSTALL --no-docs --no-html --no-test-load --library="$lib" "$tmp/maaslin3"
R_LIBS="$lib" Rscript -e 'suppressPackageStartupMessages(library(maaslin3)); cat("maaslin3", as.character(packageVersion("maaslin3")), "installed\n")'

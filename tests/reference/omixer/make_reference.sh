#!/usr/bin/env bash
# Reference module profiles from the authors' own tool, Omixer-RPM (Darzi et al. 2016),
# as bundled in omixerRpm 0.3.3 (github.com/omixer/omixer-rpmR: inst/java/omixer-rpm.jar,
# inst/extdata/GBMs.v1.0.txt, inst/extdata/GMMs.v1.07.txt). Neither the jar nor the
# definition files are committed here: fetch the repository, then run this script in a
# folder holding omixer-rpm.jar and the two definition files (Java 17 ran it).
#
# Input: indian_ko_modules.tsv.gz, a real KEGG-ortholog table: HUMAnN2 KO abundances
# (RPK, regrouped from UniRef90) of 109 stool metagenomes of healthy Indian adults
# (Dhakan et al. 2019, GigaScience 8:giz004; SRA PRJNA397112), as published by the
# PICRUSt2 authors in github.com/gavinmdouglas/picrust2_manuscript at commit
# dd4e2daa0b7058fa0ef46bc8f02c052f226c34ed, file data/mgs_validation/indian/humann2_ko_unstrat.tsv.
# Kept: the 425 KOs that some GBM or GMM step names, plus the UNMAPPED and UNGROUPED rows
# (the modules depend on no other row). Values unchanged.
#
# Output: <set>-<version>_c<cutoff>_{abundance,coverage}.tsv.gz, Omixer-RPM's matrix
# export (-e 2): modules x samples, a module written when some sample reaches the cutoff,
# 0 in a sample below it (both matrices); default score estimator (median).
set -euo pipefail
gunzip -c indian_ko_modules.tsv.gz > indian_ko_modules.tsv
for set in GBMs.v1.0 GMMs.v1.07; do
    for cutoff in 0.66 0.5; do
        java -jar omixer-rpm.jar -i indian_ko_modules.tsv -d "$set.txt" -c "$cutoff" -e 2 -o "out_${set}_${cutoff}"
        name=$(echo "$set" | sed 's/GBMs.v/gbm-/;s/GMMs.v/gmm-/')
        gzip -9 -c "out_${set}_${cutoff}/modules.tsv" > "${name}_c${cutoff}_abundance.tsv.gz"
        gzip -9 -c "out_${set}_${cutoff}/modules-coverage.tsv" > "${name}_c${cutoff}_coverage.tsv.gz"
    done
done

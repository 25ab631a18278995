#!/bin/sh
# Install R `mediation` (not in Debian) from its source into a private library.
# The source comes from https://github.com/kosukeimai/mediation (here a local mirror);
# its dependencies (sandwich, Hmisc, lpSolve, mvtnorm, lme4, boot, MASS) come from Debian
# (apt-get install r-cran-<name>). Nothing of the package is committed here.
set -e
SRC=${MEDIATION_GIT:-/work/.mirror/kosukeimai+mediation/repo}
LIB=${R_LIBS_USER:-/work/rlib}
rm -rf /tmp/mediation-src && mkdir -p /tmp/mediation-src "$LIB"
git --git-dir="$SRC" archive HEAD | tar -x -C /tmp/mediation-src
R CMD INSTALL -l "$LIB" /tmp/mediation-src

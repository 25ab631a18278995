"""Write gutaxis' module sets (src/gutaxis/data/reference/modules/*.json) from the files
bundled in omixerRpm 0.3.3 (github.com/omixer/omixer-rpmR, inst/extdata).

Usage (from the repository root, with a clone or bare mirror of omixer-rpmR)::

    PYTHONPATH=src python scripts/make_module_definitions.py /path/to/omixer-rpmR.git [COMMIT]

The definitions are read from the git objects of COMMIT (default HEAD) so the commit
recorded in each file is the one read. Each ``*.txt`` is parsed with gutaxis' reader of
Omixer-RPM's format (:func:`gutaxis.gut.modules.definitions.parse_omixer_definitions`);
the module names are checked against the ``*.names`` file beside it, and the parsed
modules, written back in Omixer-RPM's format, must give the original text (line by line,
trailing white space aside). Ids and names are copied unchanged (including the sources'
own spellings, e.g. "pectine").
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gutaxis.gut.modules.definitions import ModuleSet, ModuleSetInfo, parse_omixer_definitions

REPOSITORY = "https://github.com/omixer/omixer-rpmR"
OUT = Path(__file__).resolve().parents[1] / "src/gutaxis/data/reference/modules"
METHOD = ("Darzi Y, Falony G, Vieira-Silva S, Raes J. Towards biome-specific analysis of "
          "meta-omics data. ISME J 10:1025-1028 (2016). doi:10.1038/ismej.2015.188")
LICENCE_COMMON = (
    "omixerRpm 0.3.3's DESCRIPTION states 'GNU General Public License v3.0. The bundled "
    "omixer-rpm.jar is licensed under an Academic Non-commercial Software License Agreement' "
    "(the definition files are not the jar). ")
SETS = {
    "gbm": {
        "version": "1.0",
        "file": "inst/extdata/GBMs.v1.0",
        "title": "Gut-brain modules (GBMs): microbial pathways that make or break down "
                 "neuroactive compounds",
        "citation": "Valles-Colomer M, Falony G, Darzi Y, et al. The neuroactive potential "
                    "of the human gut microbiota in quality of life and depression. "
                    "Nat Microbiol 4:623-632 (2019). doi:10.1038/s41564-018-0337-x",
        "licence": LICENCE_COMMON + (
            "The GBMs come from the Raes lab (VIB / KU Leuven), whose GMM definitions and "
            "Omixer-RPM are released under VIB's Academic Non-commercial Software License "
            "Agreement; commercial users must check the terms with VIB."),
    },
    "gmm": {
        "version": "1.07",
        "file": "inst/extdata/GMMs.v1.07",
        "title": "Gut metabolic modules (GMMs): microbial pathways of carbohydrate, amino "
                 "acid, lipid and gas metabolism in the human gut",
        "citation": "Vieira-Silva S, Falony G, Darzi Y, et al. Species-function relationships "
                    "shape ecological properties of the human gut microbiome. "
                    "Nat Microbiol 1:16088 (2016). doi:10.1038/nmicrobiol.2016.88",
        "licence": LICENCE_COMMON + (
            "The upstream repository of the GMMs (github.com/raeslab/GMMs, the same "
            "GMMs.v1.07.txt) releases them under VIB's 'Academic Non-commercial Software "
            "License Agreement': internal non-commercial research use; commercial users "
            "must check the terms with VIB."),
    },
}


def git_text(git_dir: str, commit: str, path: str) -> str:
    return subprocess.run(["git", "-C", git_dir, "show", f"{commit}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def one_module_a_line(data: dict[str, object]) -> str:
    """JSON with the metadata indented and each module on one line (diffs read well)."""
    modules = data.pop("modules")
    assert isinstance(modules, list)
    head = json.dumps(data, indent=1)[:-2]
    body = ",\n".join("  " + json.dumps(m) for m in modules)
    return f'{head},\n "modules": [\n{body}\n ]\n}}\n'


def main(git_dir: str, commit: str = "HEAD") -> None:
    sha = subprocess.run(["git", "-C", git_dir, "rev-parse", commit], check=True,
                         capture_output=True, text=True).stdout.strip()
    OUT.mkdir(parents=True, exist_ok=True)
    for name, spec in SETS.items():
        txt = f"{spec['file']}.txt"
        modules = parse_omixer_definitions(git_text(git_dir, sha, txt), source=txt)
        names = dict(line.split("\t", 1) for line in
                     git_text(git_dir, sha, f"{spec['file']}.names").splitlines() if line)
        listed = {m.module_id: m.name for m in modules}
        if names != listed:
            raise SystemExit(f"{txt}: module names differ from the .names file")
        original = "".join(line.strip() + "\n" for line in
                           git_text(git_dir, sha, txt).splitlines()).removesuffix("///\n")
        written = ModuleSet(ModuleSetInfo(name, "", "", "", "", "", 0), tuple(modules))
        if written.to_omixer().removesuffix("///\n") != original:
            raise SystemExit(f"{txt}: the definitions do not write back to the same text")
        data = {
            "format": "gutaxis module set 1",
            "name": name,
            "version": spec["version"],
            "title": spec["title"],
            "citation": spec["citation"],
            "method": METHOD,
            "source": {"repository": REPOSITORY, "path": txt, "commit": sha,
                       "package": "omixerRpm 0.3.3"},
            "licence": spec["licence"],
            "modules": [{"id": m.module_id, "name": m.name,
                         "steps": [[list(alt) for alt in step] for step in m.steps]}
                        for m in modules],
        }
        target = OUT / f"{name}-{spec['version']}.json"
        target.write_text(one_module_a_line(data), encoding="utf-8")
        print(f"{target}: {len(modules)} modules")


if __name__ == "__main__":
    main(*sys.argv[1:3])

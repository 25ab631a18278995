"""Generate the synthetic example cohort shipped in ``gutaxis/data/examples``.

Everything here is SYNTHETIC: 40 stool samples from 20 made-up subjects (two visits each),
60 features carrying real genus names so the gut summaries have something to find, a
random rooted tree, and metadata with a planted effect (patients with chronic pain have
fewer butyrate producers and more Enterobacteriaceae). It exists so that a newcomer can
run ``gutaxis metrics --example`` on a fresh machine; it says nothing about real people.

Run from the repository root::

    python scripts/make_example.py

The output is deterministic (seed 20261125).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261125
OUT = Path(__file__).resolve().parents[1] / "src" / "gutaxis" / "data" / "examples"

# (phylum, class, order, family, genus, role)
GENERA = [
    ("Firmicutes", "Clostridia", "Oscillospirales", "Ruminococcaceae", "Faecalibacterium",
     "butyrate"),
    ("Firmicutes", "Clostridia", "Lachnospirales", "Lachnospiraceae", "Roseburia", "butyrate"),
    ("Firmicutes", "Clostridia", "Lachnospirales", "Lachnospiraceae", "Anaerostipes", "butyrate"),
    ("Firmicutes", "Clostridia", "Lachnospirales", "Lachnospiraceae", "Coprococcus", "butyrate"),
    ("Firmicutes", "Clostridia", "Oscillospirales", "Ruminococcaceae", "Subdoligranulum",
     "butyrate"),
    ("Firmicutes", "Clostridia", "Oscillospirales", "Ruminococcaceae", "Ruminococcus", "neutral"),
    ("Firmicutes", "Clostridia", "Lachnospirales", "Lachnospiraceae", "Blautia", "neutral"),
    ("Firmicutes", "Negativicutes", "Veillonellales-Selenomonadales", "Veillonellaceae",
     "Veillonella", "neutral"),
    ("Bacteroidota", "Bacteroidia", "Bacteroidales", "Bacteroidaceae", "Bacteroides", "neutral"),
    ("Bacteroidota", "Bacteroidia", "Bacteroidales", "Prevotellaceae", "Prevotella", "neutral"),
    ("Bacteroidota", "Bacteroidia", "Bacteroidales", "Tannerellaceae", "Parabacteroides",
     "neutral"),
    ("Proteobacteria", "Gammaproteobacteria", "Enterobacterales", "Enterobacteriaceae",
     "Escherichia-Shigella", "inflammatory"),
    ("Proteobacteria", "Gammaproteobacteria", "Enterobacterales", "Enterobacteriaceae",
     "Klebsiella", "inflammatory"),
    ("Proteobacteria", "Gammaproteobacteria", "Burkholderiales", "Sutterellaceae", "Sutterella",
     "neutral"),
    ("Verrucomicrobiota", "Verrucomicrobiae", "Verrucomicrobiales", "Akkermansiaceae",
     "Akkermansia", "neutral"),
    ("Actinobacteriota", "Actinobacteria", "Bifidobacteriales", "Bifidobacteriaceae",
     "Bifidobacterium", "neutral"),
]


def random_tree(names: list[str], rng: np.random.Generator) -> str:
    """A random rooted binary tree (Newick) by joining random pairs."""
    nodes = [f"{n}:{rng.uniform(0.01, 0.2):.4f}" for n in names]
    while len(nodes) > 2:
        i, j = sorted(rng.choice(len(nodes), size=2, replace=False))
        right, left = nodes.pop(j), nodes.pop(i)
        nodes.append(f"({left},{right}):{rng.uniform(0.01, 0.3):.4f}")
    return f"({nodes[0]},{nodes[1]});\n"


def main() -> None:
    rng = np.random.default_rng(SEED)
    features, tax_rows = [], []
    for g, (phylum, cls, order, family, genus, role) in enumerate(GENERA):
        for k in range(rng.integers(2, 6)):
            fid = f"ASV{len(features) + 1:03d}"
            features.append((fid, role))
            tax_rows.append((fid, "Bacteria", phylum, cls, order, family, genus,
                             f"{genus} sp{k + 1}" if g % 3 else np.nan))
    n_subjects, visits = 20, 2
    subjects = [f"S{i + 1:02d}" for i in range(n_subjects)]
    pain_group = np.array([i % 2 == 0 for i in range(n_subjects)])
    base = rng.gamma(0.6, 1.0, size=len(features))
    rows, meta = [], []
    for s, subject in enumerate(subjects):
        subject_effect = rng.normal(0, 0.4, size=len(features))
        age = int(rng.integers(25, 70))
        for v in range(visits):
            logits = np.log(base) + subject_effect + rng.normal(0, 0.3, size=len(features))
            if pain_group[s]:
                roles = np.array([r for _, r in features])
                logits[roles == "butyrate"] -= 0.8
                logits[roles == "inflammatory"] += 1.0
            p = np.exp(logits) / np.exp(logits).sum()
            depth = int(rng.integers(8000, 30000))
            counts = rng.multinomial(depth, rng.dirichlet(p * 80))
            sample_id = f"{subject}_v{v + 1}"
            rows.append(counts)
            pain = (rng.normal(6.0, 1.5) if pain_group[s] else rng.normal(1.5, 1.0))
            meta.append({
                "sample_id": sample_id,
                "subject": subject,
                "visit": v + 1,
                "group": "chronic_pain" if pain_group[s] else "control",
                "pain_nrs": int(np.clip(round(pain), 0, 10)),
                "age": age,
                "crp_mg_l": round(float(rng.lognormal(1.0 if pain_group[s] else 0.0, 0.6)), 2),
            })
    table = pd.DataFrame(np.array(rows).T, index=[f for f, _ in features],
                         columns=[m["sample_id"] for m in meta])
    table.index.name = "feature_id"
    OUT.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT / "example-table.tsv", sep="\t")
    taxonomy = pd.DataFrame(tax_rows, columns=["feature_id", "kingdom", "phylum", "class",
                                               "order", "family", "genus", "species"])
    taxonomy.to_csv(OUT / "example-taxonomy.tsv", sep="\t", index=False, na_rep="")
    pd.DataFrame(meta).to_csv(OUT / "example-metadata.tsv", sep="\t", index=False)
    (OUT / "example-tree.nwk").write_text(random_tree([f for f, _ in features], rng))
    (OUT / "README.md").write_text(
        "# Synthetic example cohort (not real data)\n\n"
        "Made by `scripts/make_example.py` (seed 20261125): 40 samples from 20 made-up\n"
        f"subjects, two visits each; {len(features)} features named after real genera;\n"
        "a random tree.\n"
        "A planted effect: the `chronic_pain` group has fewer butyrate producers and more\n"
        "Enterobacteriaceae. For trying gutaxis out; it says nothing about real people.\n"
    )


if __name__ == "__main__":
    main()

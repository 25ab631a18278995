"""Barrier and inflammation markers in a lab CSV: the spellings and units labs write,
converted exactly (closed forms: 1 ug/mL = 1000 ng/mL; 1 ng/mL = 1000 pg/mL;
1 mg/L = 1 ug/mL; 1 EU/L = 0.001 EU/mL), and a unit of the wrong kind refused in one
line naming file, row and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from gutaxis.errors import InputError
from gutaxis.io.labs import read_lab_csv

BARRIER = ("subject,time,analyte,value,unit\n"
           "P1,2024-03-01T08:00:00Z,Zonulin,52,ng/mL\n"
           "P1,2024-03-01T08:00:00Z,LPS,250,EU/L\n"
           "P1,2024-03-01T08:00:00Z,LBP,9.1,mg/L\n"
           "P1,2024-03-01T08:00:00Z,sCD14,1450,ng/mL\n"
           "P1,2024-03-01T08:00:00Z,FABP2,0.61,ng/mL\n"
           "P1,2024-03-01T08:00:00Z,L:M,0.028,ratio\n"
           "P1,2024-03-01T08:00:00Z,TNF-a,2.4,pg/mL\n")


def test_markers_in_the_spellings_labs_use(tmp_path: Path) -> None:
    path = tmp_path / "labs.csv"
    path.write_text(BARRIER)
    labs = read_lab_csv(path)
    assert labs["analyte"].tolist() == ["zonulin", "lps", "lbp", "scd14", "ifabp",
                                        "lm_ratio", "tnf_alpha"]
    assert labs["value"].tolist() == [52.0, 0.25, 9.1, 1.45, 610.0, 0.028, 2.4]
    assert labs["unit"].tolist() == ["ng/mL", "{EU}/mL", "ug/mL", "ug/mL", "pg/mL",
                                     "{ratio}", "pg/mL"]
    assert labs["reported_unit"].tolist() == ["ng/mL", "{EU}/L", "mg/L", "ng/mL", "ng/mL",
                                              "{ratio}", "pg/mL"]


def test_lbp_in_endotoxin_units_is_refused_naming_the_row(tmp_path: Path) -> None:
    path = tmp_path / "labs.csv"
    path.write_text(BARRIER + "P1,2024-03-02T08:00:00Z,LBP,0.4,EU/mL\n")
    with pytest.raises(InputError) as caught:
        read_lab_csv(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}, row 9, field 'unit': Lipopolysaccharide-binding "
                              "protein: LBP is a protein measured by mass (ug/mL); EU/mL is "
                              "endotoxin activity, analyte lps; found 'EU/mL'; expected a "
                              "unit convertible to ug/mL")

"""The analyze configuration: every default written and read back unchanged; unknown keys
and wrong types refused with the key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from gutaxis.analyze import DEFAULTS, config_toml, merge_config, read_config
from gutaxis.errors import InputError


def test_written_config_reads_back_the_same(tmp_path: Path) -> None:
    config = merge_config(DEFAULTS, {"design": {"outcome": 'pain "NRS"', "covariates": ["a", "b"],
                                                "seed": 7},
                                     "community": {"permutations": 99}})
    path = tmp_path / "config.toml"
    path.write_text(config_toml(config), encoding="utf-8")
    assert read_config(path) == config


def test_an_unknown_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[community]\npermutation = 99\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown configuration key") as info:
        read_config(path)
    assert "community.permutation" in str(info.value)


def test_an_unknown_section_and_a_wrong_type_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[plots]\ntop = 3\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown configuration section"):
        read_config(path)
    with pytest.raises(InputError, match="wrong type"):
        merge_config(DEFAULTS, {"community": {"permutations": "many"}})


def test_merging_does_not_change_the_defaults() -> None:
    merged = merge_config(DEFAULTS, {"design": {"covariates": ["age"]}})
    merged["diversity"]["metrics"].append("chao1")
    assert "chao1" not in DEFAULTS["diversity"]["metrics"]
    assert DEFAULTS["design"]["covariates"] == []

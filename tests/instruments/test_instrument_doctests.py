"""The examples in the instrument modules' docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["gutaxis.instruments", "gutaxis.instruments.base", "gutaxis.instruments.gut",
           "gutaxis.instruments.rheumatology", "gutaxis.instruments.responses"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0

"""Conventions of the public io API: data first, options keyword-only, documented."""

from __future__ import annotations

import inspect

import pytest

import gutaxis.io as gio

PUBLIC = [getattr(gio, name) for name in gio.__all__ if callable(getattr(gio, name))]


@pytest.mark.parametrize("func", PUBLIC, ids=lambda f: f.__name__)
def test_at_most_two_positional_parameters(func) -> None:
    positional = [
        p for p in inspect.signature(func).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    assert len(positional) <= 2, f"{func.__name__}: options must be keyword-only"


@pytest.mark.parametrize("func", PUBLIC, ids=lambda f: f.__name__)
def test_documented(func) -> None:
    assert func.__doc__ and len(func.__doc__.strip()) > 20

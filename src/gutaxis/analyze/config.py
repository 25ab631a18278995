"""The one TOML configuration of ``gutaxis analyze``: every parameter of every step.

:data:`DEFAULTS` lists the sections and keys with their defaults; :func:`read_config`
reads a TOML file (an unknown section or key is an error), :func:`merge_config` lays
command-line values over it and :func:`config_toml` writes the resolved configuration
back, so that ``gutaxis analyze --config DIR/config.toml`` repeats a run exactly. An
absent optional value is written as the empty string (TOML has no null).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gutaxis.errors import InputError

__all__ = ["DEFAULTS", "config_toml", "merge_config", "read_config"]

#: Sections and keys of the configuration with their defaults ("" = not given).
DEFAULTS: dict[str, dict[str, Any]] = {
    "input": {"table": "", "taxonomy": "", "tree": "", "metadata": "", "function_table": ""},
    "design": {
        "outcome": "", "outcome_type": "continuous", "levels": [], "positive": [],
        "covariates": [], "subject": "", "exposure": "", "treated": "", "mediators": [],
        "seed": 0,
    },
    "checks": {"min_depth": 1000, "min_group_size": 5, "min_samples": 10},
    "diversity": {
        "metrics": ["observed_features", "shannon_entropy", "pielou_e", "braycurtis"],
        "tree_metrics": ["faith_pd", "unweighted_unifrac"], "shannon_base": 2.0,
    },
    "community": {"metric": "braycurtis", "permutations": 999, "by": "margin"},
    "association": {
        "rank": "genus", "normalization": "TSS", "transform": "LOG", "min_prevalence": 0.1,
        "max_significance": 0.25, "correction": "BH",
    },
    "classify": {
        "model": "lasso", "folds": 5, "repeats": 3, "permutations": 99,
        "permutation_repeats": 1, "transform": "log", "min_prevalence": 0.1,
        "with_covariates": False,
    },
    "mediation": {"boot": 500, "method": "boot", "level": 0.95},
    "mechanism": {"module_sets": ["gbm", "gmm"], "coverage": 0.66, "markers": []},
    "report": {"top": 15},
    "compute": {"backend": "local", "scheduler": "", "workers": 0},
}


def read_config(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read a configuration file: the defaults, with the file's values over them.

    Parameters
    ----------
    path
        A TOML file with sections and keys of :data:`DEFAULTS`.
    """
    source = str(path)
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError("cannot read the configuration file", source=source,
                         found=exc.strerror) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError("the configuration is not valid TOML", source=source,
                         found=str(exc)) from None
    return merge_config(_defaults(), raw, source=source)


def merge_config(config: Mapping[str, Mapping[str, Any]], values: Mapping[str, Any], *,
                 source: str = "command line") -> dict[str, dict[str, Any]]:
    """``config`` with ``values`` (``{section: {key: value}}``) laid over it, checked.

    Parameters
    ----------
    config
        A complete configuration (e.g. the defaults, or :func:`read_config`'s).
    values
        The values to set; ``None`` values are skipped.
    source
        Where the values come from, for messages.
    """
    merged = {section: {k: list(v) if isinstance(v, list) else v for k, v in keys.items()}
              for section, keys in config.items()}
    for section, keys in values.items():
        if section not in DEFAULTS or not isinstance(keys, Mapping):
            raise InputError("unknown configuration section", source=source, field=section,
                             expected=", ".join(f"[{s}]" for s in DEFAULTS))
        for key, value in keys.items():
            if key not in DEFAULTS[section]:
                raise InputError("unknown configuration key", source=source,
                                 field=f"{section}.{key}",
                                 expected=", ".join(DEFAULTS[section]))
            if value is not None:
                merged[section][key] = _checked(value, DEFAULTS[section][key],
                                                field=f"{section}.{key}", source=source)
    return merged


def _defaults() -> dict[str, dict[str, Any]]:
    return {section: {k: list(v) if isinstance(v, list) else v for k, v in keys.items()}
            for section, keys in DEFAULTS.items()}


def _checked(value: Any, default: Any, *, field: str, source: str) -> Any:
    expected = type(default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError("expected a list of names", source=source, field=field,
                             found=repr(value), expected='e.g. ["age", "bmi"]')
        return list(value)
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise InputError("wrong type of value", source=source, field=field,
                         found=repr(value), expected=expected.__name__)
    return value


def config_toml(config: Mapping[str, Mapping[str, Any]]) -> str:
    """The configuration as TOML text (readable back by :func:`read_config`).

    Parameters
    ----------
    config
        A complete configuration.
    """
    lines = ["# gutaxis analyze configuration: `gutaxis analyze --config THIS_FILE --out DIR`",
             "# repeats the run. Empty strings mean 'not given'."]
    for section, keys in config.items():
        lines += ["", f"[{section}]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in keys.items()]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'

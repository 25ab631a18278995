"""The README's "Python API" example runs and shows what it says (it cannot rot).

The section's ``>>>`` lines are run as a doctest, with the options the package's own
docstring examples use (ELLIPSIS, NORMALIZE_WHITESPACE).
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_api_section() -> str:
    """The code block of the README's "Python API" section."""
    match = re.search(r"^## Python API\n.*?^```python\n(.*?)^```", README.read_text(),
                      re.MULTILINE | re.DOTALL)
    assert match, "README.md has no '## Python API' section with a python code block"
    return match.group(1)


def test_python_api_example_is_short() -> None:
    code = [line for line in _python_api_section().splitlines()
            if line.startswith((">>> ", "... "))]
    assert 10 <= len(code) <= 25, f"{len(code)} lines of code"


def test_python_api_example_runs_as_shown() -> None:
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    test = doctest.DocTestParser().get_doctest(_python_api_section(), {}, "README.md",
                                               str(README), 0)
    assert len(test.examples) >= 10
    runner = doctest.DocTestRunner(optionflags=flags)
    failures: list[str] = []
    runner.run(test, out=failures.append)
    assert runner.failures == 0, "".join(failures)

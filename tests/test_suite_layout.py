"""The test suite's own layout: builders are imported from tests.builders, never from a
conftest, whose fixtures pytest hands out by name."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def conftest_import_lines(source: str) -> list[int]:
    """Line numbers of the imports, relative or absolute, that name a conftest module."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""] + [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        if any(name.rsplit(".", 1)[-1] == "conftest" for name in names):
            lines.append(node.lineno)
    return lines


def test_no_module_of_the_suite_imports_from_a_conftest() -> None:
    offenders = [
        f"{path.relative_to(TESTS)}:{line}"
        for path in sorted(TESTS.rglob("*.py"))
        for line in conftest_import_lines(path.read_text())
    ]
    assert offenders == []


def test_the_check_sees_relative_absolute_and_module_imports_of_a_conftest() -> None:
    source = (
        "from .conftest import bars\n"
        "from tests.web.conftest import app\n"
        "from tests.web import conftest\n"
        "import tests.conftest\n"
        "from tests.builders.candles import bars\n"
    )
    assert conftest_import_lines(source) == [1, 2, 3, 4]

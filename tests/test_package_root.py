from __future__ import annotations

import subprocess
import sys

import pytest

# Each test starts a fresh interpreter.
pytestmark = pytest.mark.slow

HEAVY = ("flask", "sqlalchemy", "redis", "rq", "ccxt", "pydantic", "werkzeug")


def _modules_loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return set(result.stdout.split())


def test_the_pure_core_imports_without_flask_sqlalchemy_redis_rq_or_ccxt() -> None:
    loaded = _modules_loaded_after(
        "import cryptolens.detect, cryptolens.signals, cryptolens.domain"
    )
    assert not loaded & set(HEAVY)


def test_cli_help_imports_no_command_module_nor_the_web_stack() -> None:
    loaded = _modules_loaded_after(
        "from click.testing import CliRunner\n"
        "from cryptolens.cli import cli\n"
        "assert CliRunner().invoke(cli, ['--help']).exit_code == 0"
    )
    assert not loaded & {*HEAVY, "pandas", "cryptolens.config", "cryptolens.commands.market"}


def test_create_app_is_still_importable_from_the_package_root() -> None:
    from cryptolens import create_app
    from cryptolens.app import create_app as factory

    assert create_app is factory

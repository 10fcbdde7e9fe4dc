from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect


def _cryptolens(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL",))}
    environment.update(env)
    script = Path(sys.executable).with_name("cryptolens")
    return subprocess.run(
        [str(script), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = _cryptolens("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("db", "serve", "db-health"):
        assert f"\n  {command} " in result.stdout


def test_db_upgrade_creates_the_schema_from_nothing(tmp_path: Path) -> None:
    result = _cryptolens("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'cryptolens.sqlite'}")
    assert {"candles", "patterns", "signals"} <= set(inspect(engine).get_table_names())
    engine.dispose()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOG_FORMAT", "xml"),
        ("DATABASE_URL", "::nonsense::"),
        ("CRYPTOLENS_ENV", "production"),
    ],
)
def test_bad_configuration_stops_start_up_with_one_clear_line(
    tmp_path: Path, name: str, value: str
) -> None:
    result = _cryptolens("db", "current", cwd=tmp_path, **{name: value, "SECRET_KEY": ""})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    expected = "SECRET_KEY" if name == "CRYPTOLENS_ENV" else name
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_serve_production_refuses_to_run_without_the_production_environment(
    tmp_path: Path,
) -> None:
    """Otherwise gunicorn would serve with the public development SECRET_KEY."""
    result = _cryptolens("serve", "--production", "--port", "1", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "CRYPTOLENS_ENV=production" in lines[0]


def test_production_refuses_a_secret_key_of_spaces_in_one_line(tmp_path: Path) -> None:
    result = _cryptolens(
        "serve", "--production", cwd=tmp_path, CRYPTOLENS_ENV="production", SECRET_KEY=" " * 32
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "SECRET_KEY" in lines[0]

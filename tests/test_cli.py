from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from sqlalchemy import create_engine, inspect

from cryptolens import commands
from cryptolens.cli import COMMANDS, load_command


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


@pytest.mark.slow
def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = _cryptolens("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("db", "serve", "db-health"):
        assert f"\n  {command} " in result.stdout


@pytest.mark.slow
def test_db_upgrade_creates_the_schema_from_nothing(tmp_path: Path) -> None:
    result = _cryptolens("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'cryptolens.sqlite'}")
    assert {"candles", "patterns", "signals"} <= set(inspect(engine).get_table_names())
    engine.dispose()


@pytest.mark.slow
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


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.slow
def test_an_unmigrated_sqlite_file_is_one_line_that_says_to_upgrade(tmp_path: Path) -> None:
    database = tmp_path / "empty.sqlite"
    database.touch()
    result = _cryptolens("symbols", "list", cwd=tmp_path, DATABASE_URL=f"sqlite:///{database}")
    line = _one_line(result)
    assert "run `cryptolens db upgrade`" in line
    assert str(database) in line


@pytest.mark.slow
def test_an_unreachable_database_is_one_line_naming_it(tmp_path: Path) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:9/nothing"  # discard port: refused
    result = _cryptolens("db", "current", cwd=tmp_path, DATABASE_URL=url)
    line = _one_line(result)
    assert "127.0.0.1:9/nothing" in line
    assert "upgrade" not in line


@pytest.mark.slow
def test_a_sqlite_url_into_a_missing_folder_creates_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "no" / "such"
    result = _cryptolens(
        "symbols", "list", cwd=tmp_path, DATABASE_URL=f"sqlite:///{folder / 'x.sqlite'}"
    )
    line = _one_line(result)
    assert f"the folder {folder} does not exist" in line
    assert not (tmp_path / "no").exists()
    assert not (tmp_path / "instance").exists()


@pytest.mark.slow
def test_serve_production_refuses_to_run_without_the_production_environment(
    tmp_path: Path,
) -> None:
    """Otherwise gunicorn would serve with the public development SECRET_KEY."""
    result = _cryptolens("serve", "--production", "--port", "1", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "CRYPTOLENS_ENV=production" in lines[0]


@pytest.mark.slow
def test_production_refuses_a_secret_key_of_spaces_in_one_line(tmp_path: Path) -> None:
    result = _cryptolens(
        "serve", "--production", cwd=tmp_path, CRYPTOLENS_ENV="production", SECRET_KEY=" " * 32
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "SECRET_KEY" in lines[0]


def test_help_summaries_are_the_commands_own_short_help() -> None:
    for name in COMMANDS:
        command = load_command(name)
        assert command.name == name
        assert COMMANDS[name].summary == command.get_short_help_str(limit=10_000)


def test_every_command_defined_in_the_commands_package_is_listed() -> None:
    listed = {load_command(name) for name in COMMANDS}
    for info in pkgutil.iter_modules(commands.__path__):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        defined = [value for value in vars(module).values() if isinstance(value, click.Command)]
        subcommands = {
            sub
            for group in defined
            if isinstance(group, click.Group)
            for sub in group.commands.values()
        }
        for command in defined:
            assert command in listed or command in subcommands, command.name


@pytest.mark.slow
def test_a_command_that_needs_no_app_still_refuses_bad_settings(tmp_path: Path) -> None:
    result = _cryptolens("exchange-sim", "--speed", "0", cwd=tmp_path, LOG_FORMAT="xml")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "LOG_FORMAT" in result.stderr

"""``cryptolens backup`` and ``restore`` through the command line: a round trip on SQLite
and refusals as one-line errors, never a traceback."""

from __future__ import annotations

from pathlib import Path

from click.testing import Result

from cryptolens import create_app
from cryptolens.cli import cli
from cryptolens.db import migrate
from cryptolens.db.engine import create_engine_for
from tests.builders.settings import make_settings


def _run(database: Path, *args: str) -> Result:
    settings = make_settings(
        database_url=f"sqlite:///{database}", instance_dir=database.parent / "instance"
    )
    app = create_app(settings)
    with app.app_context():
        return app.test_cli_runner().invoke(cli, args=list(args))


def test_backup_then_restore_into_an_empty_database(tmp_path: Path) -> None:
    live = tmp_path / "live.sqlite"
    engine = create_engine_for(make_settings(database_url=f"sqlite:///{live}"))
    migrate.upgrade(engine)
    engine.dispose()
    target = tmp_path / "nightly.backup"

    made = _run(live, "backup", str(target))
    assert made.exit_code == 0, made.output
    assert f"to {target}" in made.output

    again = _run(live, "backup", str(target))
    assert again.exit_code == 1
    assert "already exists; pass --force" in again.output
    assert "Traceback" not in again.output

    over = _run(live, "restore", str(target))
    assert over.exit_code == 1
    assert "is not empty; pass --force" in over.output

    fresh = tmp_path / "fresh.sqlite"
    restored = _run(fresh, "restore", str(target))
    assert restored.exit_code == 0, restored.output
    assert "restored" in restored.output
    assert fresh.read_bytes()[:16] == b"SQLite format 3\x00"

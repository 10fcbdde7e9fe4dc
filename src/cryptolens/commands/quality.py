"""``cryptolens quality``: train the zone-quality model, list the saved ones."""

from __future__ import annotations

import click
from flask import current_app

from cryptolens.clock import utcnow
from cryptolens.domain.errors import CryptoLensError
from cryptolens.extensions import db
from cryptolens.runtime import app_settings
from cryptolens.services.quality.models import (
    list_versions,
    load_latest,
    models_dir,
    train_stored,
)


@click.group("quality", help="Zone-quality model: train it, list the saved versions.")
def quality_group() -> None:
    pass


@quality_group.command("train")
def train_command() -> None:
    """Train on every active symbol's stored candles and save the model with its card."""
    settings = app_settings(current_app)
    try:
        stored = train_stored(db.engine, settings, now=utcnow())
    except CryptoLensError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"saved model {stored.version} to {stored.path}")
    for row in stored.card["out_of_sample"]["per_type"]:
        click.echo(
            f"  {row['name']:16} zones {row['zones']:6d}  AUC {row['auc_model']:.3f} "
            f"(strength {row['auc_strength']:.3f})  calibration {row['calibration_pts']:.1f} pts"
        )


@quality_group.command("list")
def list_command() -> None:
    """The saved model versions, oldest first; the newest is the one in use."""
    directory = models_dir(app_settings(current_app))
    versions = list_versions(directory)
    if not versions:
        click.echo(f"no model in {directory}: run `cryptolens quality train`")
        return
    latest = load_latest(directory)
    for version in versions:
        mark = " (in use)" if latest is not None and latest.version == version else ""
        click.echo(f"{version}{mark}")

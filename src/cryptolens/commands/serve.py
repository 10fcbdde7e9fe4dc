"""``cryptolens serve``: the web application, with werkzeug or (``--production``) gunicorn."""

from __future__ import annotations

import os
import sys

import click
from flask import current_app

from cryptolens.runtime import app_settings


@click.command("serve")
@click.option("--production", is_flag=True, help="Serve with gunicorn (gunicorn.conf settings).")
@click.option("--host", default=None, help="Address to bind (default: HOST setting).")
@click.option("--port", default=None, type=int, help="Port to bind (default: PORT setting).")
def serve(production: bool, host: str | None, port: int | None) -> None:
    """Serve the web application."""
    settings = app_settings(current_app)
    host = host or settings.host
    port = port or settings.port
    if production:
        if not settings.is_production:
            # Without it gunicorn would run with development settings: the public
            # development SECRET_KEY (anyone could forge sessions) and insecure cookies.
            click.echo(
                "cryptolens: serve --production needs CRYPTOLENS_ENV=production "
                "(and a random SECRET_KEY); refusing to serve with development settings",
                err=True,
            )
            sys.exit(2)
        args = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:cryptolens.gunicorn_conf",
            "--bind",
            f"{host}:{port}",
            "cryptolens:create_app()",
        ]
        os.execv(sys.executable, args)  # noqa: S606  (replace this process with gunicorn)
    from werkzeug.serving import run_simple

    from cryptolens.web.serving import QuietRequestHandler

    # Flask refuses app.run() under its own CLI; serve the same app with werkzeug directly.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_simple(
        host,
        port,
        app,
        use_reloader=False,
        use_debugger=False,
        threaded=True,
        request_handler=QuietRequestHandler,
    )

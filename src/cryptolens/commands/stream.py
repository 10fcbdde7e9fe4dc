"""``cryptolens stream``: the real-time gateway (Server-Sent Events and WebSocket)."""

from __future__ import annotations

import click

from cryptolens.config import load_settings


@click.command("stream")
@click.option("--host", default=None, help="Address to bind (default: STREAM_HOST setting).")
@click.option("--port", default=None, type=int, help="Port to bind (default: STREAM_PORT setting).")
def stream_command(host: str | None, port: int | None) -> None:
    """Serve the real-time feeds: SSE at /stream, WebSocket at /ws."""
    from cryptolens.stream.app import serve

    settings = load_settings()
    serve(settings, host=host or settings.stream_host, port=port or settings.stream_port)

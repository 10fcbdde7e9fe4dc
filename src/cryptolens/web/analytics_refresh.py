"""Writes that change a portfolio's analytics queue the ``refresh_portfolio_analytics`` job
once they commit, so the next view of the page finds a current snapshot. Without Redis
nothing is queued: the next view computes the figures (and stores them)."""

from __future__ import annotations

from functools import partial

from flask import Flask, current_app, request

from cryptolens.extensions import db
from cryptolens.runtime import app_redis
from cryptolens.services.ops.background import Background
from cryptolens.services.portfolio.analytics_snapshot import queue_refresh
from cryptolens.services.portfolio.revision import refresh_after_commit

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def _queue_refreshes() -> None:
    if request.method in _READS:
        return
    redis = app_redis(current_app)
    if redis is not None:
        refresh_after_commit(db.session(), partial(queue_refresh, Background(redis)))


def register(app: Flask) -> None:
    app.before_request(_queue_refreshes)

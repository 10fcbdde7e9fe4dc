"""Flask extensions, created unbound and bound to an app in ``create_app``."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine

from cryptolens.db.base import Base
from cryptolens.runtime import RUNTIME_KEY, app_runtime


class _RuntimeSQLAlchemy(SQLAlchemy):
    """Flask-SQLAlchemy on the engine ``cryptolens.app.build`` made, so requests, jobs and
    commands share one way of connecting (pool, SQLite pragmas, driver options)."""

    def _make_engine(self, bind_key: str | None, options: dict[str, Any], app: Flask) -> Engine:
        if bind_key is None and RUNTIME_KEY in app.extensions:
            return app_runtime(app).engine
        return super()._make_engine(bind_key, options, app)


db = _RuntimeSQLAlchemy(model_class=Base)
cache = Cache()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)

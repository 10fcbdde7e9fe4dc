"""Flask extensions, created unbound and bound to an app in ``create_app``."""

from __future__ import annotations

from flask_caching import Cache
from flask_sqlalchemy import SQLAlchemy

from cryptolens.db.base import Base

db = SQLAlchemy(model_class=Base)
cache = Cache()

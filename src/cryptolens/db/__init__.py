"""Persistence: SQLAlchemy 2 models, engine helpers, queries and bulk operations."""

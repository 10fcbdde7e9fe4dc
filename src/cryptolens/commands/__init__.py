"""CLI commands by area; each module has a ``register(app)``."""

"""Background entry points (RQ jobs and the scheduler): thin adapters onto services.

Like ``cryptolens.web``, this is an edge of the application; the two never import each other
(an import-linter contract in ``make test``).
"""

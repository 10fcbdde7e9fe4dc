"""Portfolios and the trade journal: portfolios, trades from fills, tags, journal entries,
CSV export and import, and analytics computed in SQL. Every function takes the ``owner`` and
reaches only their rows."""

"""A user's portfolios and trade journal: portfolios, trades from fills, tags, journal
entries, CSV export and import, and analytics computed in SQL."""

"""Market data use cases: ingesting closed candles, storing them with their aggregates, the
market clock, and auditing (and repairing) what is stored."""

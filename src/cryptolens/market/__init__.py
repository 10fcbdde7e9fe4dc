"""Market data: exchange access through CCXT, ingestion, aggregation, the exchange simulator."""

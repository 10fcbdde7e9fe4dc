"""Backtesting: replay of the live pipeline, metrics, placebo baseline and walk-forward (pure)."""

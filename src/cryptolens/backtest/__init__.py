"""Backtesting: the live scanner's pure pipeline replayed over history, then traded with fees,
slippage, sizing and position limits into trades and an equity curve; metrics, a placebo
baseline and walk-forward splits to judge the result."""

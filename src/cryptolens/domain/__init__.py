"""Plain-Python domain: enums, errors, timeframes. Standard library only."""

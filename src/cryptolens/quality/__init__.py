"""Zone quality: outcome labels, features known at formation, and walk-forward models."""

"""Signal alerts: channels, preferences, fan-out, delivery, history."""

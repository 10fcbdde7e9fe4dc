"""Signal alerts: preferences, fan-out of a signal or broadcast into notification and delivery
rows under the plan's limits, delivery through the channels, history."""

"""The scanner: stored candles in, zones, their lifecycle, signals, outcomes and the events
they record out; plus the mapping between stored rows and the pure engines."""

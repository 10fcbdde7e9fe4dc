"""Outgoing messages: channels (email now; ntfy and others later)."""

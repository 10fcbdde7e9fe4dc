"""Connections to outside services (Redis) built from settings."""

"""Connections to outside services (Redis) built from settings, and the Prometheus metrics
processes record (``metrics``) with their multiprocess files (``metrics_files``)."""

"""Domain exceptions; the web edge maps them to HTTP status codes in one place."""

from __future__ import annotations


class CryptoLensError(Exception):
    """Base class of every error CryptoLens raises on purpose."""

    status_code = 500


class ValidationError(CryptoLensError, ValueError):
    """Input that does not satisfy a documented rule."""

    status_code = 400


class NotFoundError(CryptoLensError, LookupError):
    """A requested object does not exist (or is not visible to the caller)."""

    status_code = 404


class ConflictError(CryptoLensError):
    """The request conflicts with the current state."""

    status_code = 409


class ExchangeError(CryptoLensError):
    """The exchange could not be reached or answered with an error."""

    status_code = 502


class UnknownSymbolError(ExchangeError):
    """The exchange does not list the requested symbol."""

    status_code = 404

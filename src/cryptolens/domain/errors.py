"""Domain exceptions; the web edge maps them to HTTP status codes in one place."""

from __future__ import annotations


class CryptoLensError(Exception):
    """Base class of every error CryptoLens raises on purpose."""

    status_code = 500


class ValidationError(CryptoLensError, ValueError):
    """Input that does not satisfy a documented rule."""

    status_code = 400


class CandleTimeError(ValidationError):
    """Candle open times that are not epoch milliseconds spaced by the timeframe."""


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


class AuthenticationError(CryptoLensError):
    """Credentials, a code or a link did not check out (deliberately vague)."""

    status_code = 400


class ForbiddenError(CryptoLensError):
    """The caller may not do this, whatever their plan."""

    status_code = 403


class TierRequiredError(ForbiddenError):
    """The caller's plan does not include this; a higher plan does."""

    def __init__(self, capability: str, required: str) -> None:
        what = capability.replace("_", " ")
        super().__init__(
            f"{what[:1].upper()}{what[1:]} needs the {required.capitalize()} plan; "
            "upgrade your subscription to use it."
        )
        self.capability = capability
        self.required = required


class ThrottledError(CryptoLensError):
    """Too many attempts; the message never says whether an account exists.

    ``retry_after`` (seconds), when known, becomes the answer's ``Retry-After`` header.
    """

    status_code = 429

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

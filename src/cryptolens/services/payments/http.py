"""The providers' JSON APIs over aiohttp (the project's HTTP client), called synchronously
from a request or a job."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp

from cryptolens.domain.errors import CryptoLensError

log = logging.getLogger(__name__)


class ProviderError(CryptoLensError):
    """A payment provider could not be reached or refused the request; the user is told to
    try again (nothing changed on the account)."""

    status_code = 502


async def _call(
    method: str, url: str, headers: dict[str, str], payload: Any, timeout: float
) -> tuple[int, bytes]:
    body = None if payload is None else json.dumps(payload).encode()
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
        session.request(method, url, data=body, headers=headers, allow_redirects=False) as answer,
    ):
        return answer.status, await answer.read()


def call_json(
    method: str, url: str, *, headers: dict[str, str], payload: Any = None, timeout: float
) -> dict[str, Any]:
    """Send ``payload`` as JSON and return the JSON object answered; ProviderError for a
    transport error, a status other than 2xx or a body that is not a JSON object."""
    provider = url.split("/")[2]
    try:
        status, raw = asyncio.run(_call(method, url, headers, payload, timeout))
    except (aiohttp.ClientError, TimeoutError) as error:
        log.warning("payment provider %s unreachable: %s", provider, type(error).__name__)
        raise ProviderError("The payment provider could not be reached; try again.") from None
    if not 200 <= status < 300:
        log.warning("payment provider %s answered %s to %s", provider, status, method)
        raise ProviderError(f"The payment provider refused the request ({status}); try again.")
    try:
        found = json.loads(raw) if raw else {}
    except ValueError:
        found = None
    if not isinstance(found, dict):
        raise ProviderError("The payment provider sent an unreadable answer; try again.")
    return found

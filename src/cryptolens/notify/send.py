"""Sending messages to ntfy, webhooks and Apprise, many at once.

``deliver_all`` opens ONE pooled aiohttp session per call and keeps at most ``concurrency``
sends in flight (a semaphore and the connector's limit), so a signal fanned out to 10,000
subscribers reuses connections instead of opening 10,000. ntfy and webhooks are plain aiohttp;
Apprise does its own HTTP in a worker thread. A channel's failure is an ``Outcome``, never an
exception: 2xx Delivered; 429, 5xx, network errors and timeouts Retryable (with the far end's
``Retry-After``); 400/401/403/404/410/413 and other 4xx Permanent.

Unless ``allow_private`` (NOTIFY_ALLOW_PRIVATE_TARGETS), a host that resolves to a loopback,
LAN or link-local address is refused at connect time (``notify.addresses``): a Permanent
"private address refused", even for a target saved while such addresses were allowed or whose
name now resolves elsewhere. Redirects are never followed (a public URL cannot bounce a send
to a private one): a 3xx is Permanent.

Logs name targets by ``redact(target)`` only: no token, topic or Apprise URL reaches a log."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from cryptolens.domain.errors import ValidationError
from cryptolens.notify import apprise_client
from cryptolens.notify.addresses import (
    PrivateAddressError,
    PublicResolver,
    RefusedAddress,
    check_target_address,
    refuse_private_literal,
)
from cryptolens.notify.channel import Delivered, DeliveryResult, Message, Permanent, Retryable
from cryptolens.notify.targets import ChannelKind, Target, redact
from cryptolens.notify.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

log = logging.getLogger(__name__)

#: ntfy's default message limit; longer bodies are cut (on a UTF-8 boundary, ending "…").
MAX_BODY_BYTES = 4096
MAX_TITLE_BYTES = 256
#: The longest wait a far end's Retry-After may impose (a longer one is read as this).
MAX_RETRY_AFTER = 3600.0
#: Bytes of an answer read (to reuse the connection); the rest is never needed.
MAX_ANSWER_BYTES = 64 * 1024
#: ntfy shows at most three action buttons.
MAX_ACTIONS = 3
USER_AGENT = "CryptoLens-notify"
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one send went: the result, the HTTP status when there was one, and how long it took."""

    result: DeliveryResult
    status: int | None
    seconds: float


def truncate_utf8(text: str, limit: int = MAX_BODY_BYTES) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, never inside a character, ending "…"."""
    data = text.encode()
    if len(data) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode())
    return data[: max(room, 0)].decode(errors="ignore") + ELLIPSIS


def fit(message: Message) -> Message:
    """``message`` with its title and body within the channels' limits."""
    return replace(
        message,
        title=truncate_utf8(message.title, MAX_TITLE_BYTES),
        body=truncate_utf8(message.body, MAX_BODY_BYTES),
    )


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), capped at an
    hour; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 410, 413})


def classify_status(status: int, headers: Mapping[str, str]) -> DeliveryResult:
    """The result an HTTP status means for a notification (see the module docstring)."""
    if 200 <= status < 300:
        return Delivered()
    if status == 429 or status >= 500 or status == 408:
        return Retryable(f"HTTP {status}", parse_retry_after(headers.get("Retry-After")))
    if 300 <= status < 400:
        return Permanent(f"HTTP {status}: redirected; configure the final URL")
    return Permanent(f"HTTP {status}")


def ntfy_payload(target: Target, message: Message) -> dict[str, Any]:
    """ntfy's JSON publishing form (POSTed to the server's root URL)."""
    payload: dict[str, Any] = {
        "topic": target.topic,
        "title": message.title,
        "message": message.body,
        "priority": int(message.priority),
    }
    if message.tags:
        payload["tags"] = list(message.tags)
    if message.click_url:
        payload["click"] = message.click_url
    if message.actions:
        payload["actions"] = [
            {"action": "view", "label": action.label, "url": action.url}
            for action in message.actions[:MAX_ACTIONS]
        ]
    return payload


def webhook_payload(message: Message) -> dict[str, Any]:
    return {
        "title": message.title,
        "body": message.body,
        "priority": int(message.priority),
        "tags": list(message.tags),
        "click_url": message.click_url,
        "actions": [{"label": a.label, "url": a.url} for a in message.actions],
        "data": dict(message.data) if message.data is not None else None,
    }


#: A send refused by NOTIFY_ALLOW_PRIVATE_TARGETS=false.
PRIVATE_REFUSED = "private address refused (NOTIFY_ALLOW_PRIVATE_TARGETS is false)"


async def _post(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> tuple[DeliveryResult, int]:
    headers = {"Content-Type": "application/json", **headers}
    async with session.post(url, data=body, headers=headers, allow_redirects=False) as answer:
        await answer.content.read(MAX_ANSWER_BYTES)
        return classify_status(answer.status, answer.headers), answer.status


async def _send_ntfy(
    session: aiohttp.ClientSession, target: Target, message: Message
) -> tuple[DeliveryResult, int | None]:
    body = json.dumps(ntfy_payload(target, message), ensure_ascii=False).encode()
    headers = {"Authorization": f"Bearer {target.token}"} if target.token else {}
    return await _post(session, target.url + "/", body, headers)


async def _send_webhook(
    session: aiohttp.ClientSession, target: Target, message: Message
) -> tuple[DeliveryResult, int | None]:
    body = json.dumps(webhook_payload(message), ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(target.token or "", timestamp, body),
    }
    return await _post(session, target.url, body, headers)


def _send_apprise(
    target: Target, message: Message, timeout: float, allow_private: bool
) -> DeliveryResult:
    """Blocking (run in a thread). Apprise does its own HTTP, so its host is checked just
    before; a rebinding in between is not caught as it is for ntfy and webhooks."""
    try:
        check_target_address(target, allow_private=allow_private)
    except PrivateAddressError:
        return Permanent(PRIVATE_REFUSED)
    except ValidationError:
        pass  # the host does not resolve now: Apprise's own attempt fails and is retried
    sent = apprise_client.send(target.url, title=message.title, body=message.body, timeout=timeout)
    if sent is None:
        return Permanent("not an Apprise URL Apprise understands")
    return Delivered() if sent else Retryable("Apprise could not deliver the message")


async def _dispatch(
    session: aiohttp.ClientSession,
    target: Target,
    message: Message,
    timeout: float,
    allow_private: bool,
) -> tuple[DeliveryResult, int | None]:
    if target.kind is ChannelKind.APPRISE:
        return await asyncio.to_thread(_send_apprise, target, message, timeout, allow_private), None
    if not allow_private:
        refuse_private_literal(target.url)  # PublicResolver checks the names
    if target.kind is ChannelKind.NTFY:
        return await _send_ntfy(session, target, message)
    if target.kind is ChannelKind.WEBHOOK:
        return await _send_webhook(session, target, message)
    return Permanent("email is sent through the outbox"), None


def _failure(error: Exception, timeout: float) -> DeliveryResult:
    """An exception as a result; the text names the kind of failure, never the URL."""
    refused = isinstance(error, RefusedAddress)
    if refused or isinstance(getattr(error, "os_error", None), RefusedAddress):
        return Permanent(PRIVATE_REFUSED)
    if isinstance(error, asyncio.TimeoutError):
        return Retryable(f"timed out after {timeout:g} s")
    if isinstance(error, aiohttp.InvalidURL):
        return Permanent("the URL is not valid")
    if isinstance(error, OSError):
        return Retryable(f"network error: {error.strerror or type(error).__name__}")
    if isinstance(error, aiohttp.ClientError):
        return Retryable(f"network error: {type(error).__name__}")
    return Retryable(f"unexpected error: {type(error).__name__}")


async def _deliver_one(
    session: aiohttp.ClientSession,
    slots: asyncio.Semaphore,
    target: Target,
    message: Message,
    timeout: float,
    allow_private: bool,
) -> Outcome:
    async with slots:
        started = time.perf_counter()
        status: int | None = None
        try:
            result, status = await _dispatch(session, target, fit(message), timeout, allow_private)
        except Exception as error:  # a channel's failure is an outcome, never a crash
            result = _failure(error, timeout)
        seconds = time.perf_counter() - started
    if not isinstance(result, Delivered):
        log.info("notify %s to %s: %r", target.kind.value, redact(target), result)
    return Outcome(result=result, status=status, seconds=seconds)


async def deliver_all(
    jobs: Sequence[tuple[Target, Message]],
    *,
    concurrency: int = 64,
    timeout: float = 10.0,
    allow_private: bool = False,
) -> list[Outcome]:
    """Send every (target, message) pair, at most ``concurrency`` at a time, each within
    ``timeout`` seconds; outcomes in the order of ``jobs``. Unless ``allow_private``, a
    target whose host is not public fails (Permanent) without a request."""
    if not jobs:
        return []
    slots = asyncio.Semaphore(max(1, concurrency))
    resolver = None if allow_private else PublicResolver()
    connector = aiohttp.TCPConnector(limit=max(1, concurrency), resolver=resolver)
    async with aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=timeout),
        headers={"User-Agent": USER_AGENT},
    ) as session:
        return list(
            await asyncio.gather(
                *(
                    _deliver_one(session, slots, target, msg, timeout, allow_private)
                    for target, msg in jobs
                )
            )
        )


def deliver(
    target: Target, message: Message, *, timeout: float = 10.0, allow_private: bool = False
) -> Outcome:
    """Send one message now, from synchronous code (a job, a CLI command, a "send test")."""
    jobs = [(target, message)]
    return asyncio.run(
        deliver_all(jobs, concurrency=1, timeout=timeout, allow_private=allow_private)
    )[0]

"""Sending messages to ntfy, webhooks and Apprise, many at once.

``deliver_all`` opens ONE pooled aiohttp session per call and keeps at most ``concurrency``
sends in flight (a semaphore and the connector's limit), so a signal fanned out to 10,000
subscribers reuses connections instead of opening 10,000. ntfy and webhooks are plain aiohttp;
Apprise does its own HTTP in a worker thread. A channel's failure is an ``Outcome``, never an
exception: 2xx Delivered; 429, 5xx, network errors and timeouts Retryable (with the far end's
``Retry-After``); 400/401/403/404/410/413 and other 4xx Permanent.

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

from cryptolens.notify import apprise_client
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


async def _send_apprise(target: Target, message: Message, timeout: float) -> DeliveryResult:
    sent = await asyncio.to_thread(
        apprise_client.send, target.url, title=message.title, body=message.body, timeout=timeout
    )
    if sent is None:
        return Permanent("not an Apprise URL Apprise understands")
    return Delivered() if sent else Retryable("Apprise could not deliver the message")


async def _dispatch(
    session: aiohttp.ClientSession, target: Target, message: Message, timeout: float
) -> tuple[DeliveryResult, int | None]:
    if target.kind is ChannelKind.NTFY:
        return await _send_ntfy(session, target, message)
    if target.kind is ChannelKind.WEBHOOK:
        return await _send_webhook(session, target, message)
    if target.kind is ChannelKind.APPRISE:
        return await _send_apprise(target, message, timeout), None
    return Permanent("email is sent through the outbox"), None


def _failure(error: Exception, timeout: float) -> DeliveryResult:
    """An exception as a result; the text names the kind of failure, never the URL."""
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
) -> Outcome:
    async with slots:
        started = time.perf_counter()
        status: int | None = None
        try:
            result, status = await _dispatch(session, target, fit(message), timeout)
        except Exception as error:  # a channel's failure is an outcome, never a crash
            result = _failure(error, timeout)
        seconds = time.perf_counter() - started
    if not isinstance(result, Delivered):
        log.info("notify %s to %s: %r", target.kind.value, redact(target), result)
    return Outcome(result=result, status=status, seconds=seconds)


async def deliver_all(
    jobs: Sequence[tuple[Target, Message]], *, concurrency: int = 64, timeout: float = 10.0
) -> list[Outcome]:
    """Send every (target, message) pair, at most ``concurrency`` at a time, each within
    ``timeout`` seconds; outcomes in the order of ``jobs``."""
    if not jobs:
        return []
    slots = asyncio.Semaphore(max(1, concurrency))
    connector = aiohttp.TCPConnector(limit=max(1, concurrency))
    async with aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=timeout),
        headers={"User-Agent": USER_AGENT},
    ) as session:
        return list(
            await asyncio.gather(
                *(_deliver_one(session, slots, target, msg, timeout) for target, msg in jobs)
            )
        )


def deliver(target: Target, message: Message, *, timeout: float = 10.0) -> Outcome:
    """Send one message now, from synchronous code (a job, a CLI command, a "send test")."""
    return asyncio.run(deliver_all([(target, message)], concurrency=1, timeout=timeout))[0]

"""Where a message goes: one validated ``Target`` per configured channel, its stored JSON form
and a display form that never shows a secret.

ntfy topics follow ntfy's own rule (1 to 64 of ``A-Z a-z 0-9 _ -``); webhook and ntfy server URLs
are http(s) without credentials; Apprise URLs are whatever Apprise itself accepts. Every
refusal is a ``ValidationError`` naming the problem and never echoing a secret."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

from cryptolens.domain.errors import ValidationError
from cryptolens.notify import apprise_client

#: ntfy's topic rule (server/util: ``[-_A-Za-z0-9]{1,64}``).
TOPIC = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: ntfy access tokens (``tk_…``) and other bearer tokens: visible ASCII, no spaces.
TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]{8,256}")
MAX_URL_CHARS = 2048
MIN_SECRET_CHARS = 16
MAX_SECRET_CHARS = 256


class ChannelKind(StrEnum):
    NTFY = "ntfy"
    EMAIL = "email"
    WEBHOOK = "webhook"
    APPRISE = "apprise"


@dataclass(frozen=True, slots=True)
class Target:
    """One configured destination, decrypted.

    ``url``: the ntfy server's base URL, the webhook's POST URL, the Apprise URL or the email
    address; ``topic``: ntfy only; ``token``: the ntfy access token or the webhook secret.
    ``repr`` shows the redacted form, so a logged target never leaks a secret.
    """

    kind: ChannelKind
    url: str
    topic: str | None = None
    token: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"Target({self.kind.value}: {redact(self)})"


def _http_url(text: str, what: str, *, allow_query: bool) -> str:
    """``text`` as an absolute http(s) URL without credentials (trailing ``/`` removed)."""
    url = text.strip()
    if not url:
        raise ValidationError(f"{what} is empty")
    if len(url) > MAX_URL_CHARS:
        raise ValidationError(f"{what} is longer than {MAX_URL_CHARS} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ValidationError(f"{what} must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a port that is not a number or out of range
    except ValueError:
        raise ValidationError(f"{what} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"{what} must be an absolute http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(f"{what} must not contain a user name or password")
    if parts.fragment or (parts.query and not allow_query):
        raise ValidationError(f"{what} must not have a query or fragment")
    del port
    return url if parts.query else url.rstrip("/")


def check_server_url(text: str) -> str:
    """An ntfy server's base URL (http/https, no credentials, query or fragment)."""
    return _http_url(text, "ntfy server URL", allow_query=False)


def _check_topic(topic: str) -> str:
    if len(topic) > 64:
        raise ValidationError(f"ntfy topic is {len(topic)} characters long; at most 64")
    if not TOPIC.fullmatch(topic):
        raise ValidationError("ntfy topic may only contain letters, digits, '_' and '-'")
    return topic


def _check_token(token: str | None) -> str | None:
    if token is None or not token.strip():
        return None
    token = token.strip()
    if not TOKEN.fullmatch(token):
        raise ValidationError(
            "ntfy access token must be 8 to 256 letters, digits or ._~+/=- (e.g. tk_…)"
        )
    return token


def ntfy_target(address: str, *, default_server: str, token: str | None = None) -> Target:
    """An ntfy topic, given alone (on ``default_server``) or as ``[https://]server/topic``.

    Raises ValidationError naming what is wrong with the topic, server URL or token.
    """
    text = address.strip().rstrip("/")
    if not text:
        raise ValidationError("ntfy topic is empty")
    if "?" in text or "#" in text:
        raise ValidationError("ntfy address must not have a query or fragment")
    if "/" in text:
        if "://" not in text:
            text = "https://" + text  # "ntfy.example.com/alerts", as ntfy's own CLI accepts
        server, _, topic = text.rpartition("/")
        if server.endswith(":/"):  # "https://ntfy.example.com": a server, no topic
            raise ValidationError("ntfy address has a server but no topic (server/topic)")
    else:
        server, topic = default_server, text
    return Target(
        kind=ChannelKind.NTFY,
        url=check_server_url(server),
        topic=_check_topic(topic),
        token=_check_token(token),
    )


def webhook_target(url: str, secret: str) -> Target:
    """A webhook POST URL and its HMAC secret; raises ValidationError naming the problem."""
    checked = _http_url(url, "webhook URL", allow_query=True)
    secret = secret.strip()
    if not MIN_SECRET_CHARS <= len(secret) <= MAX_SECRET_CHARS:
        raise ValidationError(
            f"webhook secret must be {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} characters"
        )
    if any(ch.isspace() or ord(ch) < 32 for ch in secret):
        raise ValidationError("webhook secret must not contain spaces or control characters")
    return Target(kind=ChannelKind.WEBHOOK, url=checked, token=secret)


def apprise_target(url: str) -> Target:
    """One Apprise URL (``tgram://…``, ``discord://…``, ``json://…``) that Apprise accepts.

    Raises ValidationError naming the problem; the message never repeats the URL (it may hold
    a password or token).
    """
    text = url.strip()
    if not text:
        raise ValidationError("Apprise URL is empty")
    if len(text) > MAX_URL_CHARS:
        raise ValidationError(f"Apprise URL is longer than {MAX_URL_CHARS} characters")
    if any(ch.isspace() or ch == "," or ord(ch) < 32 for ch in text):
        # Apprise would read "a b" or "a,b" as two URLs: one target is one URL.
        raise ValidationError("Apprise URL must be a single URL without spaces or commas")
    if not apprise_client.is_valid(text):
        scheme = text.partition("://")[0] if "://" in text else ""
        shown = f" ({scheme}://…)" if scheme.isalnum() and len(scheme) <= 20 else ""
        raise ValidationError(
            f"not an Apprise URL Apprise understands{shown}; "
            "see https://github.com/caronc/apprise/wiki for the URL of each service"
        )
    return Target(kind=ChannelKind.APPRISE, url=text)


def random_topic() -> str:
    """An unguessable ntfy topic (on ntfy the topic is the password): ``cl-`` + 24 chars."""
    return "cl-" + secrets.token_urlsafe(18)


def random_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


def redact(target: Target) -> str:
    """A form safe to show and log: no token, no password, ntfy topics and URL paths cut."""
    if target.kind is ChannelKind.NTFY:
        topic = target.topic or ""
        shown = f"{target.url}/{topic[:4]}…"
        return shown + " (with token)" if target.token else shown
    if target.kind is ChannelKind.WEBHOOK:
        return _origin_only(target.url)
    if target.kind is ChannelKind.APPRISE:
        return _origin_only(apprise_client.private_url(target.url))
    return target.url


def _origin_only(url: str) -> str:
    """``scheme://[user:***@]host[:port]`` plus ``/…`` when there was a path or query (where
    webhook tokens usually live)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return url.partition("://")[0] + "://…"
    user = ""
    if parts.username:
        user = f"{parts.username}:***@" if parts.password is not None else f"{parts.username}@"
    rest = "/…" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{user}{host}{port}{rest}"


def target_to_json(target: Target) -> str:
    """The stored form (encrypted before it reaches the database)."""
    return json.dumps(
        {"kind": target.kind.value, "url": target.url, "topic": target.topic, "token": target.token}
    )


def target_from_json(text: str) -> Target:
    """Back from ``target_to_json``; raises ValidationError on anything else."""
    try:
        raw = json.loads(text)
        kind = ChannelKind(raw["kind"])
        url, topic, token = raw["url"], raw.get("topic"), raw.get("token")
    except (ValueError, TypeError, KeyError):
        raise ValidationError("stored notification target is not valid JSON of a target") from None
    if not isinstance(url, str) or not all(v is None or isinstance(v, str) for v in (topic, token)):
        raise ValidationError("stored notification target has fields of the wrong type")
    return Target(kind=kind, url=url, topic=topic, token=token)

"""Is a notification target's host on the public internet? The guard against server-side
request forgery: a user's ntfy server, webhook or Apprise URL must not make this server POST
to itself, its LAN or the cloud metadata service (169.254.169.254).

A host is refused when ANY address it resolves to is loopback, private, link-local,
multicast, reserved, unspecified, IPv6 site-local or unique-local, or an IPv6 form of such an
IPv4 address (IPv4-mapped ``::ffff:10.0.0.1``, 6to4, NAT64). Self-hosted ntfy on a LAN is
legitimate: NOTIFY_ALLOW_PRIVATE_TARGETS=true turns the check off.

It runs twice: when a channel is saved (``check_target_address``, through getaddrinfo) and
at send time, where ``PublicResolver`` checks the very addresses aiohttp connects to, so a
name that resolves elsewhere after it was saved (DNS rebinding) is still refused."""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import parse_qs, urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from cryptolens.domain.errors import ValidationError
from cryptolens.notify.targets import ChannelKind, Target

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

HINT = "set NOTIFY_ALLOW_PRIVATE_TARGETS=true to allow it"
#: Apprise schemes whose host is a server the user chooses (self-hosted services and the
#: generic json/xml/form ones). Other schemes go to fixed public APIs (``tgram://BOTTOKEN/
#: CHATID``: the "host" is a bot token) and are checked only when their host looks like a
#: network host (``looks_like_host``).
APPRISE_HOST_SCHEMES = frozenset(
    {
        "json", "jsons", "xml", "xmls", "form", "forms",
        "ntfy", "ntfys", "gotify", "gotifys", "matrix", "matrixs",
        "mmost", "mmosts", "rocket", "rockets",
        "apprise", "apprises", "ncloud", "nclouds", "nctalk", "nctalks",
        "hassio", "hassios", "signal", "signals", "mqtt", "mqtts",
        "kodi", "kodis", "xbmc", "xbmcs", "emby", "embys",
    }
)  # fmt: skip
#: NAT64's well-known prefix: the last 32 bits are an IPv4 address.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
HOST_NAME = re.compile(r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?")
#: Matrix's t2bot mode: the "host" is a 64-character webhook token.
T2BOT_TOKEN = re.compile(r"[A-Za-z0-9]{64}")


class PrivateAddressError(ValidationError):
    """A target's host resolves to an address NOTIFY_ALLOW_PRIVATE_TARGETS=false refuses."""


class RefusedAddress(OSError):
    """Raised by ``PublicResolver`` (aiohttp wraps OSErrors from a resolver)."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public address ("loopback", "private", …), None when it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:  # decided by the IPv4 address it carries
            inner = refusal(embedded)
            return None if inner is None else f"IPv6 form of {inner} {embedded}"
        if ip.is_site_local:
            return "site-local"
    kinds = (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("not globally routable", not ip.is_global),
    )
    return next((name for name, flag in kinds if flag), None)


def _address(text: str) -> IPAddress:
    return ipaddress.ip_address(text.partition("%")[0])  # "fe80::1%eth0": drop the scope


def resolve(host: str) -> list[IPAddress]:
    """Every address ``host`` resolves to; ValidationError when it does not resolve."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ValidationError("cannot resolve host") from None
    return list(dict.fromkeys(_address(str(info[4][0])) for info in infos))


def check_public_address(url_or_host: str, *, allow_private: bool, what: str = "URL") -> None:
    """Refuse a URL (or bare host) whose host resolves to a non-public address.

    Raises PrivateAddressError naming the address ("webhook URL points to a private address
    (10.0.0.5, private); set NOTIFY_ALLOW_PRIVATE_TARGETS=true to allow it"), ValidationError
    when the host cannot be resolved. Does nothing when ``allow_private``."""
    if allow_private:
        return
    host = _host(url_or_host)
    if not host:
        raise ValidationError(f"{what} has no host")
    try:
        addresses = resolve(host)
    except ValidationError:
        raise ValidationError(f"{what}: cannot resolve host") from None
    for ip in addresses:
        reason = refusal(ip)
        if reason is not None:
            raise PrivateAddressError(
                f"{what} points to a private address ({ip}, {reason}); {HINT}"
            )


def _host(url_or_host: str) -> str | None:
    text = url_or_host.strip()
    if "://" not in text:
        return text.strip("[]") or None
    try:
        return urlsplit(text).hostname
    except ValueError:
        return None


def looks_like_host(host: str) -> bool:
    """An IP address, ``localhost`` or a dotted name ending in an alphabetic label."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or HOST_NAME.fullmatch(host.lower()) is not None
    return True


def apprise_host(url: str) -> str | None:
    """The network host an Apprise URL makes the server contact, when the user chose it (see
    APPRISE_HOST_SCHEMES); None for a fixed public API. ValidationError when a scheme that
    carries a host has one that cannot be read."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        host = parts.hostname
        parts.port  # noqa: B018 -- raises ValueError when the netloc is not host[:port]
    except ValueError:
        host = None
    if scheme not in APPRISE_HOST_SCHEMES:
        return host if host and looks_like_host(host) else None
    if scheme in ("ntfy", "ntfys") and not parts.path.strip("/"):
        return None  # ntfy://TOPIC: a topic on ntfy.sh
    if scheme in ("matrix", "matrixs") and _is_t2bot(parts.hostname, parts.query):
        return None
    if not host:
        raise ValidationError("Apprise URL's server address cannot be read")
    return host


def _is_t2bot(host: str | None, query: str) -> bool:
    modes = parse_qs(query).get("mode", [])
    return "t2bot" in modes or (host is not None and T2BOT_TOKEN.fullmatch(host) is not None)


def check_target_address(target: Target, *, allow_private: bool) -> None:
    """``check_public_address`` for the host a target sends to (ntfy server, webhook URL,
    Apprise host when user-chosen); email goes through the configured SMTP server."""
    if allow_private:
        return
    if target.kind is ChannelKind.NTFY:
        check_public_address(target.url, allow_private=False, what="ntfy server URL")
    elif target.kind is ChannelKind.WEBHOOK:
        check_public_address(target.url, allow_private=False, what="webhook URL")
    elif target.kind is ChannelKind.APPRISE:
        host = apprise_host(target.url)
        if host is not None:
            check_public_address(host, allow_private=False, what="Apprise URL")


def refuse_private_literal(url: str) -> None:
    """Raise RefusedAddress when ``url``'s host is a non-public IP literal (aiohttp connects
    to a literal without asking its resolver, so ``PublicResolver`` never sees it)."""
    host = _host(url)
    try:
        ip = ipaddress.ip_address(host or "")
    except ValueError:
        return
    if refusal(ip) is not None:
        raise RefusedAddress(f"private address refused ({ip})")


class PublicResolver(AbstractResolver):
    """aiohttp's resolver, refusing a host when any address it resolves to is not public."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            ip = _address(result["host"])
            if refusal(ip) is not None:
                raise RefusedAddress(f"private address refused ({ip})")
        return results

    async def close(self) -> None:
        await self._inner.close()

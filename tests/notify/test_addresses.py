"""The SSRF guard: which addresses a notification target may resolve to, and which hosts of
ntfy, webhook and Apprise targets are checked (IP literals and ``localhost``: no DNS needed)."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from cryptolens.domain.errors import ValidationError
from cryptolens.notify.addresses import (
    PrivateAddressError,
    PublicResolver,
    RefusedAddress,
    apprise_host,
    check_public_address,
    check_target_address,
    refusal,
    refuse_private_literal,
)
from cryptolens.notify.targets import ChannelKind, Target

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.0.0.5", "private"),
        ("172.16.4.4", "private"),
        ("192.168.1.20", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("0.0.0.0", "unspecified"),  # noqa: S104 -- an address, not a bind
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not globally routable"),  # carrier-grade NAT
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fec0::1", "site-local"),
        ("fd00::1", "private"),  # unique-local fc00::/7
        ("ff02::1", "multicast"),
        ("::ffff:10.0.0.1", "IPv6 form of private 10.0.0.1"),
        ("::ffff:127.0.0.1", "IPv6 form of loopback 127.0.0.1"),
        ("64:ff9b::a9fe:a9fe", "IPv6 form of link-local 169.254.169.254"),  # NAT64
        ("2002:a00:1::1", "IPv6 form of private 10.0.0.1"),  # 6to4
    ],
)
def test_non_public_addresses_are_refused_with_their_kind(address: str, reason: str) -> None:
    assert refusal(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", [PUBLIC_V4, "1.1.1.1", PUBLIC_V6, f"::ffff:{PUBLIC_V4}"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://10.0.0.5/hook", "(10.0.0.5, private)"),
        ("http://127.0.0.1:8080/hook", "(127.0.0.1, loopback)"),
        ("http://169.254.169.254/latest/meta-data/", "(169.254.169.254, link-local)"),
        ("http://[::1]:9000/", "(::1, loopback)"),
        ("http://[fd00::1]/hook", "(fd00::1, private)"),
        ("http://[::ffff:10.0.0.1]/hook", "(::ffff:a00:1, IPv6 form of private 10.0.0.1)"),
        ("http://localhost:8080/hook", "(127.0.0.1, loopback)"),  # a name, resolved
        ("http://2130706433/hook", "(127.0.0.1, loopback)"),  # 127.0.0.1 as one number
    ],
)
def test_a_url_pointing_inside_is_refused_naming_the_address_and_the_setting(
    url: str, shown: str
) -> None:
    with pytest.raises(PrivateAddressError) as refused:
        check_public_address(url, allow_private=False, what="webhook URL")
    assert str(refused.value).startswith(f"webhook URL points to a private address {shown}")
    assert str(refused.value).endswith("set NOTIFY_ALLOW_PRIVATE_TARGETS=true to allow it")


def test_a_public_address_is_accepted() -> None:
    check_public_address(f"https://{PUBLIC_V4}/hook", allow_private=False)
    check_public_address(f"http://[{PUBLIC_V6}]:8080/", allow_private=False)
    check_public_address(PUBLIC_V4, allow_private=False)


def test_a_host_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(ValidationError, match="webhook URL: cannot resolve host") as refused:
        check_public_address(
            "https://no-such-host.invalid/hook", allow_private=False, what="webhook URL"
        )
    assert not isinstance(refused.value, PrivateAddressError)


def test_allowing_private_targets_checks_nothing() -> None:
    check_public_address("http://127.0.0.1/", allow_private=True)
    check_public_address("https://no-such-host.invalid/", allow_private=True)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("json://user:pass@10.0.0.5:8080/path", "10.0.0.5"),
        ("jsons://hooks.example.com/in", "hooks.example.com"),
        ("xml://localhost/", "localhost"),
        ("form://nas/submit", "nas"),  # a one-label LAN name is still a host here
        ("gotify://gotify.lan/TOKEN", "gotify.lan"),
        ("mmosts://chat.example.org/abcdef", "chat.example.org"),
        ("ntfy://10.1.1.1/alerts", "10.1.1.1"),
        ("ntfys://user:pass@ntfy.example.com/alerts", "ntfy.example.com"),
        ("mailto://user:pass@192.168.1.5", "192.168.1.5"),  # not listed, but host-like
    ],
)
def test_apprise_schemes_with_a_chosen_server_give_its_host(url: str, host: str) -> None:
    assert apprise_host(url) == host


@pytest.mark.parametrize(
    "url",
    [
        "tgram://123456789:AAHxyzBotToken/987654",  # the "host" is a bot token
        "discord://1234567890/webhook_token",
        "slack://TokenA/TokenB/TokenC",
        "pover://userkey@apptoken",
        "ntfy://my-topic",  # a topic alone: ntfy.sh
        "matrix://" + "a" * 64,  # t2bot: the "host" is a webhook token
        "matrixs://token@hostname?mode=t2bot",
    ],
)
def test_apprise_urls_to_fixed_public_apis_have_no_host_to_check(url: str) -> None:
    assert apprise_host(url) is None


def test_an_apprise_host_scheme_with_an_unreadable_server_is_refused() -> None:
    with pytest.raises(ValidationError, match="server address cannot be read"):
        apprise_host("json://host:notaport/")


@pytest.mark.parametrize(
    ("target", "what"),
    [
        (Target(ChannelKind.NTFY, "http://127.0.0.1:8080", topic="t"), "ntfy server URL"),
        (Target(ChannelKind.WEBHOOK, "http://10.0.0.5/hook", token="s" * 20), "webhook URL"),
        (Target(ChannelKind.APPRISE, "json://user:secret-pass@10.0.0.5/x"), "Apprise URL"),
    ],
)
def test_each_kind_of_target_is_checked_by_its_host(target: Target, what: str) -> None:
    with pytest.raises(PrivateAddressError, match=f"^{what} points to a private") as refused:
        check_target_address(target, allow_private=False)
    assert "secret-pass" not in str(refused.value)
    check_target_address(target, allow_private=True)


def test_email_and_fixed_api_targets_need_no_lookup() -> None:
    check_target_address(Target(ChannelKind.EMAIL, "a@localhost"), allow_private=False)
    check_target_address(Target(ChannelKind.APPRISE, "tgram://1:AA/2"), allow_private=False)


def test_a_private_ip_literal_is_refused_before_connecting() -> None:
    with pytest.raises(RefusedAddress, match="private address refused"):
        refuse_private_literal("http://[::1]:8080/")
    refuse_private_literal(f"https://{PUBLIC_V4}/")
    refuse_private_literal("https://ntfy.sh")  # a name: the resolver's business


def test_the_resolver_refuses_a_name_resolving_to_loopback() -> None:
    async def lookup() -> None:
        resolver = PublicResolver()
        try:
            await resolver.resolve("localhost", 80)
        finally:
            await resolver.close()

    with pytest.raises(RefusedAddress, match="private address refused"):
        asyncio.run(lookup())

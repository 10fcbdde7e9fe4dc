from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from cryptolens.notify.channel import Delivered, Message, Permanent, Retryable
from cryptolens.notify.email import EmailChannel, SmtpConfig


class _Refusing:
    """An SMTP server that answers RCPT TO with the reply it is given."""

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.accepted: list[bytes] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("ok@"):
            envelope.rcpt_tos.append(address)
            return "250 OK"
        return self.reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.accepted.append(envelope.content)
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(port: int) -> SmtpConfig:
    return SmtpConfig("127.0.0.1", port, "none", None, None, "CryptoLens <a@b.test>", 5)


@pytest.fixture(params=["550 5.1.1 no such user", "451 4.3.0 try again later"])
def refusing(request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    port = _free_port()
    controller = Controller(_Refusing(request.param), hostname="127.0.0.1", port=port)
    controller.start()
    yield request.param, port
    controller.stop()


MESSAGE = Message(title="Hello", body="plain text", html="<p>html</p>")


def test_a_5xx_refusal_is_permanent_and_a_4xx_one_retryable(refusing: tuple[str, int]) -> None:
    reply, port = refusing
    result = EmailChannel(_config(port), "gone@example.com").send(MESSAGE)
    expected = Permanent if reply.startswith("5") else Retryable
    assert isinstance(result, expected)
    assert EmailChannel(_config(port), "ok@example.com").send(MESSAGE) == Delivered()


def test_an_unreachable_server_is_retryable() -> None:
    result = EmailChannel(_config(_free_port()), "x@example.com").send(MESSAGE)
    assert isinstance(result, Retryable)
    assert result.reason


def test_the_email_channel_says_its_kind() -> None:
    assert EmailChannel(_config(25), "x@example.com").kind == "email"

"""The local SMTP server fixtures are shared with the web tests."""

from __future__ import annotations

from tests.web.conftest import app, mailbox, smtp_server

__all__ = ["app", "mailbox", "smtp_server"]

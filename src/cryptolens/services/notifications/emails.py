"""Alerts as emails: one per signal (the title as subject, text and HTML parts with the
links), or a digest of several."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from cryptolens.notify.channel import Message

DIGEST_LIMIT = 50


def _text_of(message: Message) -> str:
    links = [f"{a.label}: {a.url}" for a in message.actions]
    if message.click_url and not links:
        links = [message.click_url]
    return "\n".join([message.body, *links])


def _html_of(message: Message) -> str:
    body = "<br>".join(escape(line) for line in message.body.splitlines())
    links = " · ".join(
        f'<a href="{escape(a.url, quote=True)}">{escape(a.label)}</a>' for a in message.actions
    )
    if message.click_url and not links:
        url = escape(message.click_url, quote=True)
        links = f'<a href="{url}">{url}</a>'
    return f"<h3>{escape(message.title)}</h3><p>{body}</p>" + (f"<p>{links}</p>" if links else "")


def alert_email(message: Message) -> Message:
    """One alert as an email: the title as subject, text and HTML parts with the links."""
    return Message(
        title=message.title,
        body=_text_of(message) + "\n",
        html=f"<html><body>{_html_of(message)}</body></html>",
        priority=message.priority,
    )


def digest_email(messages: Sequence[Message]) -> Message:
    """Several alerts in one email (at most DIGEST_LIMIT shown, the rest counted)."""
    shown = list(messages[:DIGEST_LIMIT])
    more = len(messages) - len(shown)
    title = shown[0].title if len(messages) == 1 else f"CryptoLens: {len(messages)} alerts"
    text = "\n\n".join(f"{m.title}\n{_text_of(m)}" for m in shown)
    html = "<hr>".join(_html_of(m) for m in shown)
    if more:
        text += f"\n\n…and {more} more."
        html += f"<p>…and {more} more.</p>"
    return Message(title=title, body=text + "\n", html=f"<html><body>{html}</body></html>")

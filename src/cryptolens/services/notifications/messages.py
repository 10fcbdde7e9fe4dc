"""A ``Message`` as stored in ``notifications.message`` (JSON) and back, and the email forms
of alerts (one per signal, or a digest of several)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from cryptolens.notify.channel import Action, Message, Priority

DIGEST_LIMIT = 50


def message_to_json(message: Message) -> dict[str, Any]:
    """The stored form: title, body, priority, tags, click_url, actions [[label, url]], html,
    data."""
    return {
        "title": message.title,
        "body": message.body,
        "priority": int(message.priority),
        "tags": list(message.tags),
        "click_url": message.click_url,
        "actions": [[action.label, action.url] for action in message.actions],
        "html": message.html,
        "data": dict(message.data) if message.data is not None else None,
    }


def _priority(value: object) -> Priority:
    try:
        return Priority(int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return Priority.DEFAULT


def message_from_json(stored: Mapping[str, Any]) -> Message:
    """Back from ``message_to_json``; tolerant of missing optional fields."""
    actions = tuple(
        Action(str(pair[0]), str(pair[1]))
        for pair in stored.get("actions") or ()
        if isinstance(pair, list | tuple) and len(pair) == 2
    )
    data = stored.get("data")
    return Message(
        title=str(stored.get("title") or ""),
        body=str(stored.get("body") or ""),
        priority=_priority(stored.get("priority", 3)),
        tags=tuple(str(tag) for tag in stored.get("tags") or ()),
        click_url=stored.get("click_url") or None,
        actions=actions,
        html=stored.get("html") or None,
        data=data if isinstance(data, dict) else None,
    )


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

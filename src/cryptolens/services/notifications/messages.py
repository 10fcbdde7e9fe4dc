"""A ``notify.Message`` as the JSON stored in ``notifications.message`` and back: the fan-out
renders a message once and stores it; delivery reads it and sends it unchanged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptolens.notify.channel import Action, Message, Priority


def message_to_json(message: Message) -> dict[str, Any]:
    """title, body, priority, tags, click_url, actions ([[label, url], ...]), html, data."""
    return {
        "title": message.title,
        "body": message.body,
        "priority": int(message.priority),
        "tags": list(message.tags),
        "click_url": message.click_url,
        "actions": [[a.label, a.url] for a in message.actions],
        "html": message.html,
        "data": dict(message.data) if message.data is not None else None,
    }


def message_from_json(stored: Mapping[str, Any]) -> Message:
    """The message ``message_to_json`` stored (missing keys take Message's defaults)."""
    data = stored.get("data")
    priority = int(stored.get("priority") or Priority.DEFAULT)
    return Message(
        title=str(stored.get("title", "")),
        body=str(stored.get("body", "")),
        priority=Priority(min(max(priority, Priority.MIN), Priority.URGENT)),
        tags=tuple(str(t) for t in stored.get("tags") or ()),
        click_url=stored.get("click_url"),
        actions=tuple(Action(str(label), str(url)) for label, url in stored.get("actions") or ()),
        html=stored.get("html"),
        data=dict(data) if isinstance(data, Mapping) else None,
    )

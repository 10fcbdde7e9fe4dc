"""A message survives being stored as JSON and read back for delivery."""

from __future__ import annotations

import json

from cryptolens.notify.channel import Action, Message, Priority
from cryptolens.services.notifications.messages import message_from_json, message_to_json


def test_a_message_round_trips_through_its_stored_json() -> None:
    message = Message(
        title="BTC/USDT long · 3 TF",
        body="Entry 64,000\nStop 63,000",
        priority=Priority.HIGH,
        tags=("chart_with_upwards_trend", "BTC-USDT"),
        click_url="https://lens.example.com/signals/7",
        actions=(Action("View signal", "https://lens.example.com/signals/7"),),
        data={"signal": {"id": 7, "targets": [1.0, None]}},
    )
    stored = json.loads(json.dumps(message_to_json(message)))
    assert message_from_json(stored) == message


def test_a_sparse_or_odd_stored_message_reads_with_defaults() -> None:
    read = message_from_json({"title": "Hi", "priority": 42, "actions": [["A", "https://x"]]})
    assert read == Message(
        title="Hi", body="", priority=Priority.URGENT, actions=(Action("A", "https://x"),)
    )

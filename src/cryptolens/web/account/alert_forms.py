"""What the signal alerts page shows and how its forms become service arguments: the request's
side of ``services.notifications`` (no query here, only service calls)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from cryptolens.config import Settings
from cryptolens.domain.enums import Direction
from cryptolens.domain.errors import ValidationError
from cryptolens.notify.targets import ChannelKind, random_topic
from cryptolens.services.accounts import policy
from cryptolens.services.notifications import channels, preferences
from cryptolens.web.principal import Principal

#: The preference form's fields, each passed on as the list of its submitted values.
PREFERENCE_FIELDS = (
    "directions",
    "min_confluence",
    "symbols",
    "timeframes",
    "pattern_types",
    "quiet_start",
    "quiet_end",
    "quiet_mode",
    "daily_cap",
)
#: Traders say long and short; signals (and the stored preferences) say bullish and bearish.
DIRECTION_LABELS = ((Direction.BULLISH.value, "Long"), (Direction.BEARISH.value, "Short"))
CHANNEL_ORDER = (ChannelKind.NTFY, ChannelKind.EMAIL, ChannelKind.WEBHOOK, ChannelKind.APPRISE)


@dataclass(frozen=True, slots=True)
class Allowance:
    """The plan's alert limits as the page words them."""

    cap: int | None  # alerts a day; None: unlimited
    delay_minutes: int
    pattern_types: tuple[str, ...]


def allowance(subject: Principal) -> Allowance:
    cap, delay = policy.notification_limits(subject)
    types = tuple(sorted(policy.limits_for(subject).pattern_types))
    return Allowance(cap=cap, delay_minutes=delay // 60, pattern_types=types)


def page_context(
    session: Session,
    subject: Principal,
    settings: Settings,
    **extra: object,
) -> dict[str, object]:
    """Everything the alerts page renders for ``subject`` (the signed-in user); a new ntfy
    channel is offered the topic the profile stored before channels existed, or a random one."""
    assert subject.user_id is not None  # the page is for signed-in users only
    found = {
        str(view.kind): view for view in channels.list_channels(session, user_id=subject.user_id)
    }
    ntfy = found.get(ChannelKind.NTFY.value)
    return {
        "channels": found,
        "channel_order": [kind.value for kind in CHANNEL_ORDER],
        "prefs": preferences.load_preferences(session, user_id=subject.user_id, settings=settings),
        "allowance": allowance(subject),
        "directions": DIRECTION_LABELS,
        "timeframes": settings.timeframes,
        "ntfy_default_url": settings.ntfy_default_url,
        "suggested_topic": (ntfy.suggested_topic if ntfy else None) or random_topic(),
        **extra,
    }


def channel_address(kind: ChannelKind, form: Mapping[str, str]) -> str:
    """The address ``set_channel`` takes, from the channel's form: ntfy ``server/topic`` (the
    default server when blank), the webhook or Apprise URL; email needs none (the account's)."""
    if kind is ChannelKind.EMAIL:
        return ""
    if kind is not ChannelKind.NTFY:
        return form.get("url", "").strip()
    topic = form.get("topic", "").strip()
    if not topic:
        raise ValidationError("ntfy topic is empty: choose one (the suggested one is random).")
    server = form.get("server", "").strip().rstrip("/")
    return f"{server}/{topic}" if server else topic


def channel_token(kind: ChannelKind, form: Mapping[str, str]) -> str | None:
    """The ntfy access token field: blank keeps the stored token, "remove" drops it ("").
    Other kinds take none from the form (a webhook's secret is made by the service)."""
    if kind is not ChannelKind.NTFY:
        return None
    if form.get("remove_token"):
        return ""
    return form.get("token", "").strip() or None


def preference_form(form: MultiDict[str, str]) -> dict[str, list[str]]:
    """The preference fields as lists of submitted values (checkboxes send several)."""
    return {name: form.getlist(name) for name in PREFERENCE_FIELDS if name in form}

"""A user's alert preferences: which signals they want to hear about, when, and how many a day.

No stored row means the defaults: both directions, the scanner's minimum confluence, the
watchlist's symbols, every timeframe, every pattern type the plan allows, no quiet hours, a
held (not dropped) alert in quiet hours, and the plan's daily cap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import time

from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.config import Settings
from cryptolens.db.notifications import NotificationPreference
from cryptolens.domain.enums import Direction, PatternType
from cryptolens.domain.errors import TierRequiredError, ValidationError
from cryptolens.domain.plans import Plan
from cryptolens.domain.timeframes import TIMEFRAME_MS
from cryptolens.services.accounts import policy

DIRECTIONS: tuple[str, ...] = tuple(d.value for d in Direction)
PATTERN_TYPES: tuple[str, ...] = tuple(p.value for p in PatternType)
QUIET_MODES = ("hold", "drop")
MAX_DAILY_CAP = 1000
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")

FormValue = str | Sequence[str]
Form = Mapping[str, FormValue]


@dataclass(frozen=True, slots=True)
class AlertPreferences:
    """``symbols`` None: the watchlist; ``timeframes`` None: all; ``pattern_types`` None: all
    the plan allows; ``daily_cap`` None: the plan's (a user's cap only lowers it)."""

    directions: frozenset[str]
    min_confluence: int
    symbols: tuple[str, ...] | None
    timeframes: tuple[str, ...] | None
    pattern_types: tuple[str, ...] | None
    quiet_start: time | None
    quiet_end: time | None
    quiet_mode: str
    daily_cap: int | None

    @property
    def has_quiet_hours(self) -> bool:
        return self.quiet_start is not None and self.quiet_end is not None


def default_min_confluence(settings: Settings | None) -> int:
    """The scanner's own minimum (SIGNAL_MIN_CONFLUENCE): by default every signal counts."""
    if settings is not None:
        return settings.signal_min_confluence
    default: int = Settings.model_fields["signal_min_confluence"].default
    return default


def default_preferences(settings: Settings | None = None) -> AlertPreferences:
    return AlertPreferences(
        directions=frozenset(DIRECTIONS),
        min_confluence=default_min_confluence(settings),
        symbols=None,
        timeframes=None,
        pattern_types=None,
        quiet_start=None,
        quiet_end=None,
        quiet_mode="hold",
        daily_cap=None,
    )


def preferences_from_row(row: NotificationPreference) -> AlertPreferences:
    """The stored row as preferences (values the rules no longer accept are left out)."""
    return preferences_from_values(
        directions=row.directions,
        min_confluence=row.min_confluence,
        symbols=row.symbols,
        timeframes=row.timeframes,
        pattern_types=row.pattern_types,
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
        quiet_mode=row.quiet_mode,
        daily_cap=row.daily_cap,
    )


def preferences_from_values(
    *,
    directions: Sequence[str] | None,
    min_confluence: int,
    symbols: Sequence[str] | None,
    timeframes: Sequence[str] | None,
    pattern_types: Sequence[str] | None,
    quiet_start: str | None,
    quiet_end: str | None,
    quiet_mode: str | None,
    daily_cap: int | None,
) -> AlertPreferences:
    """Preferences from stored columns (the bulk fan-out reads them without ORM objects)."""
    start, end = _stored_time(quiet_start), _stored_time(quiet_end)
    return AlertPreferences(
        directions=frozenset(d for d in directions or () if d in DIRECTIONS),
        min_confluence=min_confluence,
        symbols=None if symbols is None else tuple(symbols),
        timeframes=None if timeframes is None else tuple(timeframes),
        pattern_types=None if pattern_types is None else tuple(pattern_types),
        quiet_start=start if start != end else None,
        quiet_end=end if start != end else None,
        quiet_mode=quiet_mode if quiet_mode in QUIET_MODES else "hold",
        daily_cap=daily_cap,
    )


def load_preferences(
    session: Session, *, user_id: int, settings: Settings | None = None
) -> AlertPreferences:
    """The user's preferences, or the defaults when they never saved any."""
    row = session.get(NotificationPreference, user_id)
    return default_preferences(settings) if row is None else preferences_from_row(row)


def save_preferences(
    session: Session,
    *,
    user_id: int,
    subject: policy.Subject,
    form: Form,
    settings: Settings | None = None,
) -> AlertPreferences:
    """Validate ``form`` and store it; raises ValidationError naming the first bad field, or
    TierRequiredError for symbols or pattern types outside the plan. Missing or empty
    ``symbols``, ``timeframes`` or ``pattern_types`` mean the watchlist, all, all allowed."""
    prefs = parse_form(form, subject=subject, settings=settings)
    row = session.get(NotificationPreference, user_id)
    if row is None:
        row = NotificationPreference(user_id=user_id)
        session.add(row)
    row.directions = sorted(prefs.directions)
    row.min_confluence = prefs.min_confluence
    row.symbols = None if prefs.symbols is None else list(prefs.symbols)
    row.timeframes = None if prefs.timeframes is None else list(prefs.timeframes)
    row.pattern_types = None if prefs.pattern_types is None else list(prefs.pattern_types)
    row.quiet_start = _format_time(prefs.quiet_start)
    row.quiet_end = _format_time(prefs.quiet_end)
    row.quiet_mode = prefs.quiet_mode
    row.daily_cap = prefs.daily_cap
    row.updated_at = utcnow()
    session.flush()
    return prefs


def parse_form(
    form: Form, *, subject: policy.Subject, settings: Settings | None = None
) -> AlertPreferences:
    """The preferences a submitted form describes (see ``save_preferences``)."""
    timeframes = tuple(settings.timeframes) if settings is not None else tuple(TIMEFRAME_MS)
    start, end = _quiet_hours(form)
    return AlertPreferences(
        directions=_directions(form),
        min_confluence=_confluence(form, len(timeframes)),
        symbols=_symbols(form, subject),
        timeframes=_chosen(form, "timeframes", timeframes, "timeframe"),
        pattern_types=_pattern_types(form, subject),
        quiet_start=start,
        quiet_end=end,
        quiet_mode=_quiet_mode(form),
        daily_cap=_daily_cap(form),
    )


def _values(form: Form, key: str) -> list[str]:
    """Every non-blank value of ``key``: a list (checkboxes) or one comma/space-separated
    string (a text field)."""
    raw = form.get(key)
    if raw is None:
        return []
    items = re.split(r"[\s,]+", raw) if isinstance(raw, str) else list(raw)
    return [item.strip() for item in items if item.strip()]


def _text(form: Form, key: str) -> str:
    raw = form.get(key)
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw.strip()
    return next((item.strip() for item in raw if item.strip()), "")


def _directions(form: Form) -> frozenset[str]:
    chosen = [d.lower() for d in _values(form, "directions")]
    unknown = [d for d in chosen if d not in DIRECTIONS]
    if unknown:
        raise ValidationError(f"Unknown direction {unknown[0]!r}; use bullish or bearish.")
    if not chosen:
        raise ValidationError("Choose at least one direction (bullish, bearish or both).")
    return frozenset(chosen)


def _confluence(form: Form, most: int) -> int:
    text = _text(form, "min_confluence")
    try:
        value = int(text)
    except ValueError:
        raise ValidationError(
            f"Minimum confluence must be a whole number from 1 to {most}."
        ) from None
    if not 1 <= value <= most:
        raise ValidationError(f"Minimum confluence must be from 1 to {most} (got {value}).")
    return value


def _symbols(form: Form, subject: policy.Subject) -> tuple[str, ...] | None:
    chosen = _values(form, "symbols")
    if not chosen:
        return None
    return policy.check_symbols(subject, chosen)


def _chosen(form: Form, key: str, known: Sequence[str], what: str) -> tuple[str, ...] | None:
    chosen = list(dict.fromkeys(_values(form, key)))
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise ValidationError(f"Unknown {what} {unknown[0]!r}; use one of {', '.join(known)}.")
    if not chosen:
        return None
    return tuple(k for k in known if k in chosen)


def _pattern_types(form: Form, subject: policy.Subject) -> tuple[str, ...] | None:
    chosen = _chosen(form, "pattern_types", PATTERN_TYPES, "pattern type")
    allowed = policy.pattern_types(subject)
    outside = [p for p in chosen or () if p not in allowed]
    if outside:
        raise TierRequiredError(f"alerts on {outside[0]} zones", Plan.PRO.value)
    return chosen


def _quiet_hours(form: Form) -> tuple[time | None, time | None]:
    start = _clock(_text(form, "quiet_start"), "start")
    end = _clock(_text(form, "quiet_end"), "end")
    if (start is None) != (end is None):
        raise ValidationError("Quiet hours need both a start and an end (HH:MM), or neither.")
    if start is not None and start == end:
        raise ValidationError("Quiet hours must end at a different time than they start.")
    return start, end


def _clock(text: str, which: str) -> time | None:
    if not text:
        return None
    match = _HHMM.fullmatch(text)
    if match is None:
        raise ValidationError(f"Quiet hours {which} must be a time as HH:MM, e.g. 22:00.")
    return time(int(match.group(1)), int(match.group(2)))


def _quiet_mode(form: Form) -> str:
    mode = _text(form, "quiet_mode").lower() or "hold"
    if mode not in QUIET_MODES:
        raise ValidationError(f"Unknown quiet hours mode {mode!r}; use hold or drop.")
    return mode


def _daily_cap(form: Form) -> int | None:
    text = _text(form, "daily_cap")
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValidationError("The daily cap must be a whole number, or empty.") from None
    if not 1 <= value <= MAX_DAILY_CAP:
        raise ValidationError(f"The daily cap must be from 1 to {MAX_DAILY_CAP} (got {value}).")
    return value


def _stored_time(text: str | None) -> time | None:
    if text is None or _HHMM.fullmatch(text) is None:
        return None
    return time.fromisoformat(text)


def _format_time(value: time | None) -> str | None:
    return None if value is None else value.strftime("%H:%M")

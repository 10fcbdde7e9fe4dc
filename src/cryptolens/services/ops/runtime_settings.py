"""Runtime settings: what an administrator may change while the site runs, typed and
validated. Stored in the ``settings`` table one key per field (``runtime.<field>``) and read
by the code that uses them: registration, the base template's banner, the scanner's signal
rules, the scheduler's scan interval and pause flag."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from cryptolens.db.models import Setting
from cryptolens.domain.errors import ValidationError
from cryptolens.signals.params import SignalParams

PREFIX = "runtime."
MINUTE_MS = 60_000


class RuntimeSettings(BaseModel):
    """Each field is an override or a switch; ``None`` keeps the environment's value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    registration_open: bool = True
    maintenance_banner: str = Field(default="", max_length=300)
    scheduler_paused: bool = False
    scan_interval_seconds: int | None = Field(default=None, ge=10, le=86_400)
    signal_min_confluence: int | None = Field(default=None, ge=1, le=8)
    signal_cooldown_minutes: int | None = Field(default=None, ge=0, le=43_200)

    def signal_params(self, base: SignalParams) -> SignalParams:
        """``base`` (from the environment) with this site's overrides."""
        params = base
        if self.signal_min_confluence is not None:
            params = replace(params, min_confluence=self.signal_min_confluence)
        if self.signal_cooldown_minutes is not None:
            params = replace(params, cooldown_ms=self.signal_cooldown_minutes * MINUTE_MS)
        return params

    def scan_interval(self, default: int) -> int:
        return default if self.scan_interval_seconds is None else self.scan_interval_seconds

    def stored(self) -> dict[str, str]:
        """One text value per key, as the settings table stores them (empty: not set)."""
        out: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if isinstance(value, bool):
                text = "true" if value else "false"
            else:
                text = "" if value is None else str(value)
            out[PREFIX + name] = text
        return out


FIELDS = tuple(RuntimeSettings.model_fields)
_BOOLS = frozenset(n for n, f in RuntimeSettings.model_fields.items() if f.annotation is bool)


def parse_runtime(values: Mapping[str, str]) -> RuntimeSettings:
    """Settings from text values keyed by field name (a form, or stored rows without their
    prefix); an empty value means "not set". ValidationError names the first bad field."""
    data: dict[str, object] = {}
    for name in FIELDS:
        text = values.get(name)
        if text is None:
            continue
        text = text.strip()
        if name in _BOOLS:
            data[name] = text.lower() in {"true", "on", "1", "yes"}
        elif name == "maintenance_banner" or text:
            data[name] = text
    try:
        return RuntimeSettings.model_validate(data)
    except PydanticError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ValidationError(f"{field.replace('_', ' ')}: {first['msg']}") from None


def from_stored(rows: Mapping[str, str]) -> RuntimeSettings:
    """Settings from stored ``runtime.*`` rows; a bad stored value falls back to the default
    (a hand-edited row never stops the site)."""
    values = {k.removeprefix(PREFIX): v for k, v in rows.items() if k.startswith(PREFIX)}
    try:
        return parse_runtime(values)
    except ValidationError:
        good = {}
        for name, text in values.items():
            try:
                parse_runtime({name: text})
            except ValidationError:
                continue
            good[name] = text
        return parse_runtime(good)


def load_runtime(connection: Connection | Session) -> RuntimeSettings:
    """The stored runtime settings (defaults where none is stored)."""
    rows = connection.execute(
        select(Setting.key, Setting.value).where(Setting.key.startswith(PREFIX))
    ).all()
    return from_stored({row.key: row.value for row in rows})


def load_runtime_from(engine: Engine) -> RuntimeSettings:
    with engine.connect() as connection:
        return load_runtime(connection)


def save_runtime(session: Session, settings: RuntimeSettings, *, now: datetime) -> list[str]:
    """Store every field; returns the names of those that changed."""
    current = load_runtime(session).stored()
    changed = []
    for key, value in settings.stored().items():
        if current.get(key) == value and session.get(Setting, key) is not None:
            continue
        row = session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=value, updated_at=now))
        else:
            row.value, row.updated_at = value, now
        if current.get(key) != value:
            changed.append(key.removeprefix(PREFIX))
    return changed


def set_paused(session: Session, *, paused: bool, now: datetime) -> None:
    """Pause or resume the scheduler (it reads the flag every few seconds)."""
    save_runtime(
        session, load_runtime(session).model_copy(update={"scheduler_paused": paused}), now=now
    )

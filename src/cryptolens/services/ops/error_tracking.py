"""Self-hosted error tracking: every unhandled exception (web request, job, scheduler) is
stored once per fingerprint, its type and the innermost frame of our package that raised it,
with a count, first and last seen, a sample traceback and the context it happened in, with
secrets scrubbed. A new group alerts the administrators once (email and their channels).

Recording never raises: an error tracker that fails must not hide the error it was given.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.config import Settings, load_settings
from cryptolens.db.accounts import User
from cryptolens.db.errors import ErrorGroup
from cryptolens.domain.errors import NotFoundError
from cryptolens.infra import sentry
from cryptolens.logs import REDACTED, redact
from cryptolens.notify.channel import Message
from cryptolens.notify.links import PublicLinks
from cryptolens.services.notifications.audience import ADMIN_ROLE, load_audience
from cryptolens.services.notifications.fanout import Batch, plan_broadcast, write_all
from cryptolens.services.notifications.messages import message_to_json
from cryptolens.services.ops.outbox import outbox_box, queue_email

log = logging.getLogger(__name__)

OPEN, RESOLVED = "open", "resolved"
PACKAGE = "cryptolens"
#: Keys whose values are never stored, wherever they appear in a context (any case,
#: ``-`` or ``_``): passwords, secrets, tokens, cookies, sessions, API keys, Authorization.
_SECRET_KEY = re.compile(
    r"pass(word|wd)?|secret|token|cookie|session|authorization|api[-_]?key|csrf|otp|totp|"
    r"signature|credential|private",
    re.IGNORECASE,
)
MAX_TEXT = 20_000
MAX_VALUE = 500
_MARK = "__cryptolens_error_recorded__"


@dataclass(frozen=True, slots=True)
class Fingerprint:
    exc_type: str
    module: str
    function: str
    line: int

    @property
    def digest(self) -> str:
        key = f"{self.exc_type}|{self.module}|{self.function}|{self.line}"
        return hashlib.sha256(key.encode()).hexdigest()


def fingerprint(error: BaseException) -> Fingerprint:
    """The exception's type and the innermost frame of our package in its traceback (the
    innermost frame at all when none is ours)."""
    kind = type(error)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    ours: TracebackType | None = None
    last: TracebackType | None = None
    tb = error.__traceback__
    while tb is not None:
        last = tb
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module == PACKAGE or module.startswith(PACKAGE + "."):
            ours = tb
        tb = tb.tb_next
    chosen = ours or last
    if chosen is None:
        return Fingerprint(name, "?", "?", 0)
    code = chosen.tb_frame.f_code
    return Fingerprint(
        name, str(chosen.tb_frame.f_globals.get("__name__", "?")), code.co_name, chosen.tb_lineno
    )


def scrub(value: Any, *, depth: int = 0) -> Any:
    """``value`` (a JSON-like context) with secret-named keys' values replaced and secrets in
    strings redacted (``logs.redact``)."""
    if depth > 6:
        return REDACTED
    if isinstance(value, Mapping):
        return {
            str(k): REDACTED if _SECRET_KEY.search(str(k)) else scrub(v, depth=depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(v, depth=depth + 1) for v in value[:50]]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))[:MAX_VALUE]


@dataclass(frozen=True, slots=True)
class Recorded:
    group_id: int
    new: bool


def record_error(
    engine: Engine,
    settings: Settings,
    error: BaseException,
    *,
    source: str,
    context: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> Recorded | None:
    """Count ``error`` in its group (created on first sight, reopened if resolved) and alert
    the administrators about a new group. Once per exception object (a job's error seen by
    its recorded run and by the worker counts once); never raises."""
    if getattr(error, _MARK, False):
        return None
    with contextlib.suppress(AttributeError, TypeError):  # an exception without __dict__
        setattr(error, _MARK, True)
    cleaned = scrub(dict(context or {}))
    sentry.report(error, source=source, context=cleaned)
    try:
        recorded = _store(engine, error, source=source, context=cleaned, now=now or utcnow())
    except Exception:
        log.warning("could not record an error group", exc_info=True)
        return None
    if recorded.new:
        try:
            alert_admins(engine, settings, recorded.group_id, now=now or utcnow())
        except Exception:
            log.warning(
                "could not alert administrators of error group %s", recorded.group_id, exc_info=True
            )
    return recorded


def _store(
    engine: Engine,
    error: BaseException,
    *,
    source: str,
    context: dict[str, Any],
    now: datetime,
) -> Recorded:
    """Insert the group or count into it; ``context`` is scrubbed already."""
    found = fingerprint(error)
    text = redact("".join(traceback.format_exception(error)))[-MAX_TEXT:]
    message = redact(str(error))[:MAX_VALUE] or type(error).__name__
    digest = found.digest
    # Insert first: the unique fingerprint lets exactly one of two racing processes create
    # the group; the other (IntegrityError) counts into it.
    try:
        with engine.begin() as connection:
            result = connection.execute(
                insert(ErrorGroup).values(
                    fingerprint=digest,
                    exc_type=found.exc_type[:255],
                    module=found.module[:255],
                    function=found.function[:255],
                    line=found.line,
                    source=source[:16],
                    message=message,
                    traceback=text,
                    context=context,
                    count=1,
                    first_seen=now,
                    last_seen=now,
                    status=OPEN,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return Recorded(int(key[0]), True)
    except IntegrityError:
        pass
    with engine.begin() as connection:
        connection.execute(
            update(ErrorGroup)
            .where(ErrorGroup.fingerprint == digest)
            .values(
                count=ErrorGroup.count + 1,
                last_seen=now,
                message=message,
                traceback=text,
                context=context,
                status=OPEN,
                resolved_at=None,
            )
        )
        group_id = connection.scalar(select(ErrorGroup.id).where(ErrorGroup.fingerprint == digest))
    if group_id is None:
        raise SQLAlchemyError("error group vanished while counting")
    return Recorded(int(group_id), False)


def _alert_message(group: ErrorGroup, links: PublicLinks) -> Message:
    where = f"{group.module}.{group.function} line {group.line}"
    body = (
        f"A new error in {group.source}: {group.exc_type} at {where}\n"
        f"{group.message}\n\nSee {links.admin_errors()}\n"
    )
    return Message(
        title=f"CryptoLens error: {group.exc_type}"[:200],
        body=body,
        click_url=links.admin_errors(),
        tags=("warning",),
    )


def alert_admins(engine: Engine, settings: Settings, group_id: int, *, now: datetime) -> int:
    """Email every active administrator through the outbox, and queue the alert on their
    notification channels (other than email: they get the email already). Once per group:
    the group's ``alerted_at`` is claimed first. Returns the emails queued."""
    with Session(engine) as session, session.begin():
        claimed = session.execute(
            update(ErrorGroup)
            .where(ErrorGroup.id == group_id, ErrorGroup.alerted_at.is_(None))
            .values(alerted_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return 0
        group = session.get(ErrorGroup, group_id)
        if group is None:
            return 0
        links = PublicLinks(settings.resolved_public_url)
        message = _alert_message(group, links)
        admins = session.scalars(
            select(User.email).where(User.role == ADMIN_ROLE, User.active.is_(True))
        ).all()
        box = outbox_box(settings)
        for email in admins:
            queue_email(session, recipient=email, message=message, box=box, now=now)
        audience = load_audience(session, settings, now=now)
    recipients = [
        replace(r, channels=tuple(c for c in r.channels if c.kind != "email"))
        for r in audience
        if r.is_admin
    ]
    recipients = [r for r in recipients if r.channels]
    if recipients:
        batch = Batch(
            source=f"error:{group_id}",
            kind="broadcast",
            message=message_to_json(message),
            links=links,
            now=now,
        )
        write_all(engine, batch, [plan_broadcast(r, now) for r in recipients])
    return len(admins)


def record_job_error(
    engine: Engine,
    error: BaseException,
    *,
    source: str = "job",
    context: Mapping[str, Any] | None = None,
    settings: Settings | None = None,
) -> Recorded | None:
    """``record_error`` for background work, which may not hold the settings at hand."""
    if not isinstance(error, Exception):  # SystemExit, KeyboardInterrupt: a stop, not a bug
        return None
    try:
        settings = settings or load_settings()
    except Exception:
        log.warning("settings unreadable: error not recorded", exc_info=True)
        return None
    return record_error(engine, settings, error, source=source, context=context)


@dataclass(frozen=True, slots=True)
class ErrorGroupView:
    id: int
    exc_type: str
    module: str
    function: str
    line: int
    source: str
    message: str
    traceback: str
    context: dict[str, Any] | None
    count: int
    first_seen: datetime
    last_seen: datetime
    status: str


def _view(row: ErrorGroup) -> ErrorGroupView:
    return ErrorGroupView(
        row.id,
        row.exc_type,
        row.module,
        row.function,
        row.line,
        row.source,
        row.message,
        row.traceback,
        row.context,
        row.count,
        row.first_seen,
        row.last_seen,
        row.status,
    )


def list_groups(
    session: Session, *, status: str | None = OPEN, search: str = "", limit: int = 100
) -> list[ErrorGroupView]:
    """Groups, the most recently seen first; ``status`` None: all; ``search`` matches the
    type, module, function or message (case-insensitive)."""
    query = select(ErrorGroup).order_by(ErrorGroup.last_seen.desc(), ErrorGroup.id.desc())
    if status is not None:
        query = query.where(ErrorGroup.status == status)
    words = search.strip()[:100]
    if words:
        pattern = f"%{words.lower()}%"
        query = query.where(
            or_(
                func.lower(ErrorGroup.exc_type).like(pattern),
                func.lower(ErrorGroup.module).like(pattern),
                func.lower(ErrorGroup.function).like(pattern),
                func.lower(ErrorGroup.message).like(pattern),
            )
        )
    return [_view(row) for row in session.scalars(query.limit(limit))]


def set_status(session: Session, *, group_id: int, resolved: bool, now: datetime) -> None:
    """Resolve a group (or open it again); flushes, never commits."""
    row = session.get(ErrorGroup, group_id)
    if row is None:
        raise NotFoundError("No such error group.")
    row.status = RESOLVED if resolved else OPEN
    row.resolved_at = now if resolved else None
    session.flush()

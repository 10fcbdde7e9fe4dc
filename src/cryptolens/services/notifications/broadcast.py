"""An administrator's broadcast: validated, stored, then fanned out by its job."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cryptolens.clock import utcnow
from cryptolens.db.notifications import Broadcast
from cryptolens.domain.errors import ValidationError

AUDIENCES = ("all", "free", "pro", "premium")
MAX_TITLE = 200
MAX_BODY = 4000


def _text(value: str, what: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise ValidationError(f"the {what} is empty")
    if len(text) > limit:
        raise ValidationError(f"the {what} is {len(text)} characters long; at most {limit}")
    return text


def create_broadcast(
    session: Session, *, author_id: int | None, audience: str, title: str, body: str
) -> int:
    """Store a broadcast to ``audience`` (all, free, pro or premium); returns its id. Raises
    ValidationError naming the problem. Flushes, never commits."""
    if audience not in AUDIENCES:
        raise ValidationError("the audience must be one of: " + ", ".join(AUDIENCES))
    row = Broadcast(
        author_id=author_id,
        audience=audience,
        title=_text(title, "title", MAX_TITLE),
        body=_text(body, "message", MAX_BODY),
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row.id

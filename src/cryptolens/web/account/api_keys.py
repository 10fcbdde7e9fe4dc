"""The account's API keys: list with usage, create (the key shown once), revoke, rotate."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import current_app, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from cryptolens.clock import utcnow
from cryptolens.db.transactions import unit_of_work
from cryptolens.domain.api_scopes import RateLimits, Scope
from cryptolens.domain.errors import CryptoLensError, ValidationError
from cryptolens.domain.plans import Capability
from cryptolens.extensions import db, limiter
from cryptolens.runtime import app_settings
from cryptolens.services.accounts import policy
from cryptolens.services.accounts.api_keys import (
    USAGE_DAYS,
    KeyOptions,
    create_key,
    key_pepper,
    list_keys,
    revoke_key,
    rotate_key,
)
from cryptolens.web.account import bp
from cryptolens.web.errors import form_error

Page = str | Response | tuple[str, int]
TEMPLATE = "account/api_keys.html"
KEY_LIMIT = "20/hour"
_MAX_LIMIT_DIGITS = 9


def _context(**extra: object) -> dict[str, object]:
    account = current_user.account
    now = utcnow()
    return {
        "account": account,
        "keys": list_keys(db.session(), user_id=account.id, now=now),
        "now": now,
        "days": [now.date() - timedelta(days=n) for n in range(USAGE_DAYS - 1, -1, -1)],
        "can_create": policy.can(account, Capability.API),
        "scopes": sorted(policy.api_scopes(account)),
        "all_scopes": list(Scope),
        "ceiling": policy.api_rate_limits(account),
        **extra,
    }


def _pepper() -> bytes:
    return key_pepper(app_settings(current_app).secret_key)


def _entries(field: str) -> list[str]:
    return request.form.get(field, "").replace("\n", ",").split(",")


def _count(field: str) -> int | None:
    raw = request.form.get(field, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > _MAX_LIMIT_DIGITS:
        raise ValidationError(f"{field}: a whole number of requests, or empty for the plan's.")
    return int(raw)


def _expiry() -> datetime | None:
    raw = request.form.get("expires", "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValidationError("expires: a date such as 2027-01-01.") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _options() -> KeyOptions:
    return KeyOptions(
        name=request.form.get("name", ""),
        scopes=request.form.getlist("scopes"),
        expires_at=_expiry(),
        allow=_entries("allow"),
        deny=_entries("deny"),
        limits=RateLimits(_count("per_minute"), _count("per_hour"), _count("per_day")),
    )


@bp.get("/api-keys")
def api_keys() -> Page:
    return render_template(TEMPLATE, **_context())


@bp.post("/api-keys")
@limiter.limit(KEY_LIMIT)
def create_api_key() -> Page:
    try:
        with unit_of_work(db.session()) as work:
            info, plaintext = create_key(
                work,
                owner=current_user.account,
                options=_options(),
                pepper=_pepper(),
                now=utcnow(),
            )
    except CryptoLensError as error:
        return form_error(TEMPLATE, error, **_context())
    return render_template(TEMPLATE, **_context(new_key=plaintext, new_info=info)), 201


@bp.post("/api-keys/<int:key_id>/revoke")
def revoke_api_key(key_id: int) -> Page:
    try:
        with unit_of_work(db.session()) as work:
            info = revoke_key(work, key_id=key_id, user_id=current_user.account.id, now=utcnow())
    except CryptoLensError as error:
        return form_error(TEMPLATE, error, **_context())
    return render_template(TEMPLATE, **_context(notice=f"The key {info.prefix}… is revoked."))


def _grace() -> timedelta:
    raw = request.form.get("grace_hours", "24").strip()
    if not raw.isdigit() or len(raw) > 3:
        raise ValidationError("grace_hours: a whole number of hours, 0 to 720.")
    return timedelta(hours=int(raw))


@bp.post("/api-keys/<int:key_id>/rotate")
@limiter.limit(KEY_LIMIT)
def rotate_api_key(key_id: int) -> Page:
    try:
        policy.require_api(current_user.account)
        with unit_of_work(db.session()) as work:
            info, plaintext = rotate_key(
                work,
                key_id=key_id,
                user_id=current_user.account.id,
                grace=_grace(),
                pepper=_pepper(),
                now=utcnow(),
            )
    except CryptoLensError as error:
        return form_error(TEMPLATE, error, **_context())
    return render_template(TEMPLATE, **_context(new_key=plaintext, new_info=info)), 201

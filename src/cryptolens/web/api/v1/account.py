"""The caller's account, limits and API key usage."""

from __future__ import annotations

from datetime import datetime

from cryptolens.clock import utcnow
from cryptolens.domain.api_scopes import Scope
from cryptolens.domain.errors import NotFoundError
from cryptolens.extensions import db
from cryptolens.services.accounts.accounts import load_account
from cryptolens.services.accounts.api_keys import KeyInfo, list_keys
from cryptolens.web.api.v1 import bp
from cryptolens.web.api.v1.answers import Answer, answer
from cryptolens.web.api.v1.models import AccountEnvelope
from cryptolens.web.api.v1.queries import NoQuery
from cryptolens.web.api.v1.spec import endpoint
from cryptolens.web.principal import current_principal


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _key(info: KeyInfo, now: datetime) -> dict[str, object]:
    return {
        "id": info.id,
        "name": info.name,
        "prefix": info.prefix,
        "scopes": list(info.scopes),
        "state": info.state(now),
        "expires_at": _when(info.expires_at),
        "last_used_at": _when(info.last_used_at),
        "last_used_ip": info.last_used_ip,
        "requests": [{"day": day.isoformat(), "requests": n} for day, n in info.usage],
    }


@bp.get("/account")
@endpoint(Scope.READ_ACCOUNT, resp=AccountEnvelope, tag="account", query=NoQuery)
def account() -> Answer:
    """Who is calling: plan, limits, scopes, and each API key's use per day."""
    principal = current_principal()
    now = utcnow()
    found = load_account(db.session(), user_id=principal.user_id or 0, now=now)
    if found is None:
        raise NotFoundError("this account no longer exists")
    data = {
        "id": found.id,
        "email": found.email,
        "role": "admin" if found.is_admin else "user",
        "plan": found.plan.value,
        "plan_expires_at": _when(found.plan_expires_at),
        "verified": found.verified,
        "auth": principal.method.value,
        "api_key_id": principal.api_key_id,
        "scopes": sorted(principal.scopes),
        "rate_limits": list(principal.rate_limits),
        "api_keys": [_key(k, now) for k in list_keys(db.session(), user_id=found.id, now=now)],
    }
    return answer(AccountEnvelope, data)

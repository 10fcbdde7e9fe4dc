"""The API's contract, in one decorator: ``endpoint(scope, resp=..., query=..., limit=...)``.

It stacks, outermost first: the scope check (403 naming the missing scope), the rate limits
(the caller's per-minute/hour/day budget shared by every v1 endpoint, plus the endpoint's own
limit if it has one; 429 with ``Retry-After`` and ``RateLimit-*``), then SpecTree's validation
of the query or body (400 naming the field) and of the answer against its model. SpecTree
builds the OpenAPI 3.1 document from the same models.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response as FlaskResponse
from flask import request
from flask_limiter.util import get_remote_address
from pydantic import ValidationError as PydanticError
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import InType, SecureType, SecuritySchemeData

from cryptolens.domain.api_scopes import Scope
from cryptolens.domain.errors import ForbiddenError, ValidationError
from cryptolens.extensions import limiter
from cryptolens.services.accounts import policy
from cryptolens.version import __version__
from cryptolens.web.api.v1.models import ErrorEnvelope, Out
from cryptolens.web.principal import API_KEY_HEADER, API_KEY_QUERY, Principal, current_principal

F = TypeVar("F", bound=Callable[..., Any])

#: Requests per minute of a caller without limits of its own (a signed-in browser).
DEFAULT_PER_MINUTE = 200
SCOPE_ATTR = "cryptolens_scope"
ALL_SCOPES = "*"

#: Any one of these authenticates a request.
SECURITY: list[dict[str, list[str]]] = [
    {"ApiKeyHeader": []},
    {"ApiKeyQuery": []},
    {"SessionCookie": []},
]


def _scheme(name: str, field: str, where: InType) -> SecurityScheme:
    data = SecuritySchemeData(type=SecureType.API_KEY, name=field, field_in=where)
    return SecurityScheme(name=name, data=data)


api = SpecTree(
    "flask",
    mode="strict",
    title="CryptoLens API",
    version=__version__,
    description=(
        "Zones, signals and market data of a CryptoLens instance. Authenticate with an API "
        "key in the `X-API-Key` header (or `?api_key=`), or with the browser's session cookie "
        "(writes then need the page's CSRF token). Every answer is an envelope: `success`, "
        "`data`, `error`, `meta`. Lists page with `limit` and `cursor` (`meta.next_cursor`)."
    ),
    path="api/v1/spectree",  # no pages of its own: /api/docs renders the document
    page_templates={},
    validation_error_status=400,
    validation_error_model=ErrorEnvelope,
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    security_schemes=[
        _scheme("ApiKeyHeader", API_KEY_HEADER, InType.HEADER),
        _scheme("ApiKeyQuery", API_KEY_QUERY, InType.QUERY),
        _scheme("SessionCookie", "session", InType.COOKIE),
    ],
)


def describe(error: PydanticError) -> str:
    """Every refused field by name, e.g. ``limit: Input should be less than or equal to 200``."""
    parts = []
    for problem in error.errors(include_url=False, include_input=False):
        field = ".".join(str(part) for part in problem["loc"]) or "body"
        message = "unknown parameter" if problem["type"] == "extra_forbidden" else problem["msg"]
        parts.append(f"{field}: {message}")
    return "; ".join(parts)


def refuse_invalid(
    request: Any, response: Any, error: Exception | None, instance: Any, adapter: Any
) -> None:
    """SpecTree's hook after validating a request: a refused one becomes our 400 envelope."""
    if isinstance(error, PydanticError):
        raise ValidationError(describe(error))
    if error is not None:
        raise ValidationError(str(error))


api.before = refuse_invalid


def check_scope(principal: Principal, scope: Scope) -> None:
    """A session may do what its account may; a key only what its scopes name."""
    if scope.admin_only:
        policy.require_admin(principal)
    if ALL_SCOPES not in principal.scopes and scope.value not in principal.scopes:
        raise ForbiddenError(f"This API key lacks the scope {scope.value}.")


def require_scope(scope: Scope) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            check_scope(current_principal(), scope)
            return view(*args, **kwargs)

        setattr(checked, SCOPE_ATTR, scope)
        return checked  # type: ignore[return-value]

    return decorate


def caller_key() -> str:
    """Who a limit counts: the key, else the signed-in user, else the address."""
    principal = current_principal()
    if principal.api_key_id is not None:
        return f"key:{principal.api_key_id}"
    if principal.user_id is not None:
        return f"user:{principal.user_id}"
    return f"ip:{get_remote_address()}"


def budget() -> str:
    """The caller's requests per minute, hour and day (the key's, else its plan's)."""
    minute, hour, day = current_principal().rate_limits
    parts = [f"{minute or DEFAULT_PER_MINUTE}/minute"]
    parts += [f"{n}/{unit}" for n, unit in ((hour, "hour"), (day, "day")) if n]
    return ";".join(parts)


_budget = limiter.shared_limit(
    budget,
    scope="api-v1",
    key_func=caller_key,
    override_defaults=False,
    error_message="Too many requests for this caller; wait as Retry-After says.",
)


def endpoint_limit(value: str, scope: str) -> Callable[[F], F]:
    """A limit of its own (e.g. ``1/minute``) shared by the endpoints named ``scope``."""
    limit = limiter.shared_limit(
        value,
        scope=f"api-v1-{scope}",
        key_func=caller_key,
        override_defaults=False,
        error_message=f"Too many requests: {scope} allows {value.replace('/', ' per ')}.",
    )
    return cast(Callable[[F], F], limit)


def _json_only(view: Callable[..., FlaskResponse]) -> Callable[..., FlaskResponse]:
    """A body model means a JSON body (SpecTree would skip a form's and pass None)."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> FlaskResponse:
        if request.mimetype != "application/json":
            raise ValidationError("body: send JSON (Content-Type: application/json)")
        return view(*args, **kwargs)

    return checked


ERRORS = {f"HTTP_{status}": ErrorEnvelope for status in (401, 403, 404, 429)}


def endpoint(
    scope: Scope,
    *,
    resp: type[Out],
    tag: str,
    query: type[Any] | None = None,
    json: type[Any] | None = None,
    limit: tuple[str, str] | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., FlaskResponse]]:
    """Scope, limits and validation of one API v1 view (see the module's docstring): the
    view returns ``(envelope, status)``, the wrapped view a Flask response. ``errors``:
    refusals of its own to document besides 400, 401, 403, 404 and 429 (e.g. 409)."""
    own = {f"HTTP_{code}": ErrorEnvelope for code in errors}
    responses = Response(**{f"HTTP_{status}": resp}, **ERRORS, **own)

    def decorate(view: Callable[..., Any]) -> Callable[..., FlaskResponse]:
        checked: Callable[..., FlaskResponse] = api.validate(
            query=query, json=json, resp=responses, tags=[tag], security=SECURITY
        )(view)
        if json is not None:
            checked = _json_only(checked)
        if limit is not None:
            checked = endpoint_limit(*limit)(checked)
        return require_scope(scope)(_budget(checked))

    return decorate

"""The emails CryptoLens sends, rendered from ``notify/templates/email/<name>.txt|.html``
without Flask, so a job or a CLI command renders exactly what a request would."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from cryptolens.notify.channel import Message, Priority

SUBJECTS = {
    "verify": "Confirm your email address",
    "already_registered": "Someone tried to register with your address",
    "reset": "Reset your CryptoLens password",
    "change_email": "Confirm your new email address",
    "password_changed": "Your CryptoLens password was changed",
    "email_changed": "Your CryptoLens email address was changed",
    "two_factor_enabled": "Two-factor authentication is on",
    "two_factor_disabled": "Two-factor authentication is off",
    "payment_receipt": "Your CryptoLens payment: receipt",
    "payment_partial": "Your CryptoLens payment is incomplete",
    "plan_renewal_reminder": "Your CryptoLens plan renews soon",
    "plan_expired": "Your CryptoLens plan has ended",
}

_templates = Environment(
    loader=PackageLoader("cryptolens.notify", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,  # a missing link must fail loudly, not mail an empty one
    keep_trailing_newline=True,
)


def render_email(name: str, **context: object) -> Message:
    """The email ``name`` (a key of SUBJECTS) with its text and HTML parts."""
    return Message(
        title=SUBJECTS[name],
        body=_templates.get_template(f"email/{name}.txt").render(**context),
        html=_templates.get_template(f"email/{name}.html").render(**context),
        priority=Priority.HIGH,
    )

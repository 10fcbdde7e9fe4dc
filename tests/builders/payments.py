"""Applying payment events in service tests: prices from the settings, and a mailer whose
courier only records what it was handed (the emails stay in the outbox table); a stored
Pro monthly payment for the admin lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from cryptolens.config import Settings
from cryptolens.db.payments import Payment
from cryptolens.services.ops.mail import Mailer
from cryptolens.services.payments.lifecycle import Billing
from cryptolens.services.payments.providers import price_list


@dataclass
class RecordingCourier:
    delivered: list[int] = field(default_factory=list)

    def deliver(self, outbox_id: int) -> None:
        self.delivered.append(outbox_id)


def recording_billing(settings: Settings) -> Billing:
    return Billing(price_list(settings), Mailer(settings, RecordingCourier()))


def pro_payment(user_id: int, ref: str, status: str) -> Payment:
    """A NOWPayments Pro monthly payment of 19 USD in ``status`` (credited when paid)."""
    return Payment(
        provider="nowpayments",
        provider_payment_id=ref,
        user_id=user_id,
        plan="pro",
        period="monthly",
        amount=Decimal("19"),
        currency="USD",
        status=status,
        credited=status == "paid",
    )

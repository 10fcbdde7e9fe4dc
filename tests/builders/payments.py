"""Applying payment events in service tests: prices from the settings, and a mailer whose
courier only records what it was handed (the emails stay in the outbox table)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptolens.config import Settings
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

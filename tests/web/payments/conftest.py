"""Payment fixtures: the web settings with both providers on, their APIs at the local servers."""

from __future__ import annotations

import pytest

from cryptolens.config import Settings
from tests.builders.payment_servers import LemonSqueezyServer, NowPaymentsServer, with_payments


@pytest.fixture
def settings(
    settings: Settings, ls_server: LemonSqueezyServer, np_server: NowPaymentsServer
) -> Settings:
    return with_payments(settings, ls_server, np_server)

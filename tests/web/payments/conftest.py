"""Payment fixtures: the web settings with both providers on, their APIs at the local servers."""

from __future__ import annotations

import pytest

from cryptolens.config import Settings
from tests.builders.payment_servers import LemonSqueezyServer, NowPaymentsServer, payment_settings
from tests.builders.settings import make_settings


@pytest.fixture
def settings(
    settings: Settings, ls_server: LemonSqueezyServer, np_server: NowPaymentsServer
) -> Settings:
    return make_settings(**(settings.model_dump() | payment_settings(ls_server, np_server)))

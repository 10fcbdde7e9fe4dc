"""Password hashing: a missing account still pays for one real argon2 verification."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from cryptolens.services.accounts.passwords import Passwords

CHEAP = Passwords(time_cost=1, memory_kib=1024)


def test_a_stored_hash_verifies_its_password_only() -> None:
    stored = CHEAP.hash("correct horse battery staple")
    assert CHEAP.verify(stored, "correct horse battery staple")
    assert not CHEAP.verify(stored, "another password entirely")


def test_no_stored_hash_fails_after_a_real_argon2_verification(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked: list[str] = []
    real = PasswordHasher.verify

    def spy(self: PasswordHasher, stored: str, password: str) -> bool:
        checked.append(stored)
        return bool(real(self, stored, password))

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    assert not CHEAP.verify(None, "whatever the attacker types")
    assert len(checked) == 1
    assert checked[0].startswith("$argon2id$")  # a real hash of the configured cost

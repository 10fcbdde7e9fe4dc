"""Password hashing (argon2id) and the password policy's common-password list."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cryptolens.domain.accounts import check_password


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of frequent passwords (lower case)."""
    text = resources.files("cryptolens").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


class Passwords:
    """argon2id with the configured cost; verifies against a dummy hash for unknown users so
    a login for a missing account takes as long as one for an existing account."""

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int = 1) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        self._dummy = self._hasher.hash("not-a-real-password-only-for-timing")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """True if ``password`` matches ``stored``; ``None`` burns the same time and fails."""
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)

    @staticmethod
    def check_policy(password: str, *, email: str) -> None:
        """Raise ValidationError if the password breaks the policy."""
        check_password(password, email=email, common=common_passwords())

"""Market symbols: the one rule for what ``BASE/QUOTE`` text is accepted and how it is spelled."""

from __future__ import annotations

import re

from cryptolens.domain.errors import ValidationError

#: ASCII letters and digits only (``str.isalnum`` would let Unicode digits through), each side
#: no longer than the database's ``base`` and ``quote`` columns.
_SIDE = re.compile(r"[A-Z0-9]{1,16}")


def split_symbol(text: str) -> tuple[str, str]:
    """``" btc/usdt "`` → (``BTC``, ``USDT``); raises ValidationError on anything else."""
    base, sep, quote = text.strip().upper().partition("/")
    if not (sep and _SIDE.fullmatch(base) and _SIDE.fullmatch(quote)):
        shown = text if len(text) <= 40 else f"{text[:40]}…"
        raise ValidationError(
            f"symbol {shown!r} is not of the form BASE/QUOTE (letters and digits), e.g. BTC/USDT"
        )
    return base, quote


def parse_symbol(text: str) -> str:
    """The canonical spelling (upper case, no spaces) of a ``BASE/QUOTE`` symbol.

    Raises ValidationError naming the text when it is not one.
    """
    base, quote = split_symbol(text)
    return f"{base}/{quote}"

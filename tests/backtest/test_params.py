from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptolens.backtest.execution import SizingMode, SlippageMode
from cryptolens.backtest.params import PARAMS, parse_assignments, parse_params, run_params
from cryptolens.domain.errors import ValidationError
from cryptolens.signals import DEFAULT_SIGNAL_PARAMS


def test_named_values_set_the_live_signal_rules_and_the_execution_model() -> None:
    chosen = run_params(
        parse_assignments(
            [
                "min_confluence=3",
                "require_higher_timeframe=yes",
                "cooldown_hours=2",
                "tp3_r=4.5",
                "taker_fee_bps=7.5",
                "slippage_atr=0.1",
                "quantity=0.5",
                "tp1_fraction=0.5",
                "break_even=false",
            ]
        )
    )
    s, x = chosen.signals, chosen.execution
    assert s.min_confluence == 3
    assert s.require_higher_timeframe is True
    assert s.cooldown_ms == 2 * 3_600_000
    assert s.targets_r == (*DEFAULT_SIGNAL_PARAMS.targets_r[:2], 4.5)
    assert x.taker_fee_bps == 7.5
    assert (x.slippage, x.slippage_value) == (SlippageMode.ATR, 0.1)
    assert (x.sizing, x.quantity) == (SizingMode.QUANTITY, 0.5)
    assert x.exit_fractions == (0.5, 1 / 3)
    assert x.break_even is False


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"nope": "1"}, "unknown backtest parameter nope"),
        ({"min_confluence": "2.5"}, "min_confluence must be a whole number"),
        ({"min_confluence": "x"}, "min_confluence must be a number"),
        ({"risk_pct": "nan"}, "risk_pct must be a finite number"),
        ({"risk_pct": "101"}, "risk_pct must be between 0.01 and 100"),
        ({"break_even": "maybe"}, "break_even must be true or false"),
        ({"min_confluence": True}, "min_confluence must be a number"),
        ({"slippage_bps": "1", "slippage_atr": "1"}, "slippage_bps or slippage_atr"),
    ],
)
def test_bad_values_are_named(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_params(raw)


def test_values_that_do_not_fit_together_are_refused() -> None:
    with pytest.raises(ValidationError, match="targets_r"):
        run_params(parse_params({"tp1_r": "2.5"}))
    with pytest.raises(ValidationError, match="exit_fractions must sum to at most 1"):
        run_params(parse_params({"tp1_fraction": "0.7", "tp2_fraction": "0.7"}))


@given(st.sampled_from(sorted(PARAMS)), st.floats(allow_nan=False, allow_infinity=False))
def test_a_number_is_accepted_exactly_when_it_is_in_range(name: str, number: float) -> None:
    param = PARAMS[name]
    if param.kind == "bool":
        return
    text = str(int(number)) if param.kind == "int" else repr(number)
    value = float(text)
    try:
        parsed = param.parse(text)
    except ValidationError:
        assert not param.low <= value <= param.high
    else:
        assert param.low <= parsed <= param.high

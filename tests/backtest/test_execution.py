"""The execution model: validation naming the field, fee, slippage and sizing arithmetic."""

from __future__ import annotations

import pytest

from cryptolens.backtest.execution import ExecutionModel, SizingMode, SlippageMode
from cryptolens.domain.errors import ValidationError


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("initial_equity", 0),
        ("initial_equity", float("inf")),
        ("maker_fee_bps", -1),
        ("taker_fee_bps", float("nan")),
        ("slippage_value", -0.5),
        ("slippage", "percent"),
        ("sizing", "kelly"),
        ("risk_pct", 0),
        ("risk_pct", 150),
        ("quantity", -2),
        ("max_positions_per_symbol", 0),
        ("max_positions", 1.5),
        ("max_positions", True),
        ("exit_fractions", (0.6, 0.6)),
        ("exit_fractions", (0.5, -0.1)),
        ("exit_fractions", (0.5,)),
        ("break_even", "yes"),
    ],
)
def test_a_bad_value_is_refused_with_the_field_named(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        ExecutionModel(**{field: value})  # type: ignore[arg-type]


def test_fees_are_basis_points_of_the_notional_maker_or_taker() -> None:
    model = ExecutionModel(maker_fee_bps=2, taker_fee_bps=7.5)
    assert model.fee(20_000.0, maker=True) == pytest.approx(4.0)
    assert model.fee(20_000.0, maker=False) == pytest.approx(15.0)
    assert model.fee(-20_000.0, maker=False) == pytest.approx(15.0)


def test_slippage_is_basis_points_of_the_price_or_a_fraction_of_atr() -> None:
    assert ExecutionModel(slippage_value=5).slip(atr=40.0, price=30_000.0) == pytest.approx(15.0)
    by_atr = ExecutionModel(slippage=SlippageMode.ATR, slippage_value=0.25)
    assert by_atr.slip(atr=40.0, price=30_000.0) == pytest.approx(10.0)
    assert by_atr.slip(atr=float("nan"), price=30_000.0) == 0.0


def test_risk_sizing_loses_the_risk_percentage_of_equity_at_the_stop() -> None:
    model = ExecutionModel(risk_pct=2)
    size = model.size(equity=10_000.0, entry=100.0, stop=95.0)
    assert size == pytest.approx(40.0)
    assert size * (100.0 - 95.0) == pytest.approx(0.02 * 10_000.0)
    assert model.size(equity=0.0, entry=100.0, stop=95.0) == 0.0


def test_fixed_quantity_sizing_ignores_equity_and_stop() -> None:
    model = ExecutionModel(sizing=SizingMode.QUANTITY, quantity=0.25)
    assert model.size(equity=1.0, entry=100.0, stop=99.0) == 0.25


def test_the_third_fraction_is_the_remainder() -> None:
    assert ExecutionModel(exit_fractions=(0.5, 0.25)).fractions == (0.5, 0.25, 0.25)
    assert ExecutionModel(exit_fractions=(0.5, 0.5)).fractions == (0.5, 0.5, 0.0)

"""The backtest form as ``check_request`` arguments: the symbol, the dates (UTC days, the
until day included) and the named parameters, from the main fields and the "advanced"
lines of ``name=value``; and its optional "Sweep" section as the sweep object
``sweeps.check_sweep`` takes (lines of ``name=2,3,4`` or ``name=0.5:2:0.5``, mode, count,
seed, ranking metric, walk-forward days). Every refusal is a ValidationError naming what is
wrong."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cryptolens.domain.errors import ValidationError

#: The named parameters with their own field, in the form's order.
MAIN_PARAMS = (
    "min_confluence",
    "cooldown_hours",
    "tp1_r",
    "tp2_r",
    "tp3_r",
    "max_hold_hours",
    "initial_equity",
    "risk_pct",
    "maker_fee_bps",
    "taker_fee_bps",
)
#: Longest "advanced" text read (a few lines are expected).
MAX_ADVANCED = 4_000
#: Years a date may name (candles are not older; a far year is a typing slip).
YEARS = (2000, 2100)

Form = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class BacktestForm:
    symbol: str
    since: datetime
    until: datetime
    params: dict[str, str]
    #: The sweep object, None for a single run (no sweep line and no walk-forward days).
    sweep: dict[str, object] | None = None


def _day(form: Form, field: str, label: str) -> date:
    text = form.get(field, "").strip()
    if not text:
        raise ValidationError(f"{label} is required (a date such as 2024-01-31)")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{label} must be a date such as 2024-01-31, got {text!r}") from None
    if not YEARS[0] <= day.year <= YEARS[1]:
        raise ValidationError(f"{label} must be a date between {YEARS[0]} and {YEARS[1]}")
    return day


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def advanced_params(text: str) -> dict[str, str]:
    """``name=value`` lines (blank lines and ``#`` comments skipped) as raw values."""
    if len(text) > MAX_ADVANCED:
        raise ValidationError(f"advanced parameters: at most {MAX_ADVANCED:,} characters")
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValidationError(f"advanced parameters, line {number}: write name=value")
        if name in found:
            raise ValidationError(f"advanced parameters: {name} is given twice")
        found[name] = value.strip()
    return found


def backtest_form(form: Form) -> BacktestForm:
    """The form's fields; the advanced lines override a main field of the same name, and
    a swept parameter is left out of the fixed ones (its sweep values replace it)."""
    since = _day(form, "since", "Since")
    until = _day(form, "until", "Until")
    params = {name: form.get(name, "").strip() for name in MAIN_PARAMS}
    params = {name: value for name, value in params.items() if value}
    params |= advanced_params(form.get("advanced", ""))
    swept = {line.partition("=")[0].strip() for line in _sweep_lines(form)}
    if "targets" in swept:
        swept |= {"tp1_r", "tp2_r", "tp3_r"}
    return BacktestForm(
        symbol=form.get("symbol", "").strip(),
        since=_midnight(since),
        until=_midnight(until) + timedelta(days=1),
        params={name: value for name, value in params.items() if name not in swept},
        sweep=sweep_form(form),
    )


def sweep_form(form: Form) -> dict[str, object] | None:
    """The "Sweep" section as a sweep object; None when it names no values and no
    walk-forward (the lines are not checked here: ``check_sweep`` names what is wrong)."""
    lines = _sweep_lines(form)
    in_days, out_days = (form.get(f, "").strip() for f in ("wf_in_days", "wf_out_days"))
    if not lines and not in_days and not out_days:
        return None
    sweep: dict[str, object] = {
        "space": lines,
        "mode": form.get("sweep_mode", "grid").strip() or "grid",
        "metric": form.get("sweep_metric", "sharpe").strip() or "sharpe",
        "seed": _whole(form, "sweep_seed", "Seed") or 0,
        "count": _whole(form, "sweep_count", "Combinations to draw"),
    }
    if in_days or out_days:
        sweep["walk_forward"] = {"in_days": in_days or "0", "out_days": out_days or "0"}
    return sweep


def _sweep_lines(form: Form) -> list[str]:
    text = form.get("sweep", "")
    if len(text) > MAX_ADVANCED:
        raise ValidationError(f"sweep values: at most {MAX_ADVANCED:,} characters")
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _whole(form: Form, field: str, label: str) -> int | None:
    text = form.get(field, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValidationError(f"{label} must be a whole number, got {text[:20]!r}") from None

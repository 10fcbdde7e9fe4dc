"""Convert the CryptoDataDownload CSVs in ../shared/data into the compact demo files we ship.

Output (gzip CSV, ascending open time in epoch ms, UTC, base-currency volume):
  src/cryptolens/data/coinbase_btcusd_1h.csv.gz  open_time,open,high,low,close,volume
  src/cryptolens/data/bitstamp_1d.csv.gz         symbol,open_time,open,high,low,close,volume

Usage: python scripts/convert_demo_data.py [SHARED_DATA_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "cryptolens" / "data"


def convert_hourly(source: Path) -> pd.DataFrame:
    raw = pd.read_csv(source, skiprows=1)
    times = pd.to_datetime(raw["date"], format="%Y-%m-%d %I-%p", utc=True)
    frame = pd.DataFrame(
        {
            "open_time": times.astype("int64") // 1_000_000,
            "open": raw["open"],
            "high": raw["high"],
            "low": raw["low"],
            "close": raw["close"],
            "volume": raw["volume_btc"],
        }
    )
    frame = frame.drop_duplicates("open_time", keep="first").sort_values("open_time")
    return frame.reset_index(drop=True)


def convert_daily(source: Path) -> pd.DataFrame:
    raw = pd.read_csv(source)
    times = pd.to_datetime(raw.iloc[:, 0], format="%Y-%m-%d", utc=True)
    frames = []
    for asset in ("BTC", "ETH", "LTC"):
        part = pd.DataFrame(
            {
                "symbol": f"{asset}/USD",
                "open_time": times.astype("int64") // 1_000_000,
                "open": raw[f"{asset}:open"],
                "high": raw[f"{asset}:high"],
                "low": raw[f"{asset}:low"],
                "close": raw[f"{asset}:close"],
                "volume": raw[f"{asset}:volume"],
            }
        ).dropna()
        frames.append(part.drop_duplicates("open_time").sort_values("open_time"))
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"
    OUT.mkdir(parents=True, exist_ok=True)
    hourly = convert_hourly(shared / "coinbase_btcusd_1h.csv")
    hourly.to_csv(OUT / "coinbase_btcusd_1h.csv.gz", index=False, compression="gzip")
    daily = convert_daily(shared / "bitstamp_btc_eth_ltc_usd_1d.csv")
    daily.to_csv(OUT / "bitstamp_1d.csv.gz", index=False, compression="gzip")
    print(f"hourly: {len(hourly)} rows, daily: {len(daily)} rows -> {OUT}")


if __name__ == "__main__":
    main()

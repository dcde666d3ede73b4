"""mempool.space and Coin Metrics bodies for the demo scenario of 5–6 Feb 2026.

``scripts/make_demo.py`` calls :func:`demo_exchanges` every 5 simulated minutes with the scenario's
BTC price. Every body starts from a real recorded body in ``tests/data/mempool/`` and
``tests/data/coinmetrics/`` (provenance in their READMEs) and changes only values, so that the
demo tells the article's story (DOMAIN.md): miners are squeezed, hashprice stays under the $32 per
PH/s per day record low at every price of the scenario, the next difficulty adjustment is about
-13.37 % and lands within two days (blocks left count down as blocks arrive every ~11.5 min), and
the free on-chain proxy (net realized P/L, 7-day mean) is deeply negative on 5–6 Feb, the days of
the article's "realized losses above $1.26B a day". No Glassnode: without a key the pane says so.
Difficulty, hashrate, fees and the January path are made up for the scenario. Deterministic.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import sys
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Final

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui.core.model import Json  # noqa: E402

#: The sources this module writes bodies for. Glassnode is left out on purpose: the demo has no
#: key, so its pane says "needs a Glassnode key" as a user without one would see it.
SOURCES: Final = ("mempool", "coinmetrics")
DATA: Final = ROOT / "tests" / "data"
START: Final = datetime(2026, 2, 5, tzinfo=UTC)
MEMPOOL_EVERY: Final = timedelta(minutes=5)
COINMETRICS_EVERY: Final = timedelta(hours=6)

# --- mining -----------------------------------------------------------------------------------
#: Difficulty of the epoch (scenario): 1,048 EH/s would find a block every 600 s.
DIFFICULTY: Final = 146.47e12
#: The article's expected change; blocks in this epoch came every 600 / (1 - 0.1337) s.
CHANGE: Final = -13.37
BLOCK_MS: Final = 692_600
#: The next adjustment height (464 x 2016) and the blocks still to mine at 5 Feb 00:00: at
#: 692.6 s a block, the adjustment lands on 7 Feb around 20:00 UTC, within two days of 6 Feb.
NEXT_HEIGHT: Final = 935_424
LEFT_AT_START: Final = 354
EPOCH_START: Final = START - timedelta(milliseconds=(2016 - LEFT_AT_START) * BLOCK_MS)
PREVIOUS_DIFFICULTY: Final = 144.81e12
SUBSIDY_SATS: Final = 312_500_000
#: Fees were thin: ~0.015 BTC a block.
FEE_SATS: Final = 1_500_000
#: Network hashrate (EH/s) before the epoch and during it.
HASHRATE_BEFORE: Final = 1_046.0
HASHRATE_EPOCH: Final = 906.0

# --- on-chain ---------------------------------------------------------------------------------
#: Daily BTC closes (USD) of the scenario, straight lines between these points; the 5 and 6 Feb
#: closes are the article's.
CLOSES: Final = [
    ("2025-12-20", 88_000.0),
    ("2026-01-14", 96_000.0),
    ("2026-01-28", 88_500.0),
    ("2026-02-01", 78_500.0),
    ("2026-02-04", 73_100.0),
    ("2026-02-05", 62_600.0),
    ("2026-02-06", 69_850.0),
]
#: Net realized profit less loss (USD a day): small profits into mid-January, then losses that
#: deepen with the sell-off; the 7-day mean is about -$0.96B through 4 Feb and -$1.27B through
#: 5 Feb (the day of the crash).
NET_PNL: Final = [
    ("2025-12-20", 150e6),
    ("2026-01-14", 200e6),
    ("2026-01-28", -450e6),
    ("2026-01-29", -550e6),
    ("2026-01-30", -650e6),
    ("2026-01-31", -750e6),
    ("2026-02-01", -950e6),
    ("2026-02-02", -1_150e6),
    ("2026-02-03", -1_250e6),
    ("2026-02-04", -1_450e6),
    ("2026-02-05", -2_700e6),
    ("2026-02-06", -1_600e6),
]
REALIZED_CAP_START: Final = 1.065e12  # on 19 Dec 2025
SUPPLY_START: Final = 19_967_000.0  # BTC on 19 Dec 2025
ROWS: Final = 40
#: Coin Metrics publishes a day's values about six hours after it ends (SOURCES.md: "about a
#: day late").
LANDS_AFTER: Final = timedelta(hours=6)


def demo_exchanges(t: datetime, price: float) -> list[tuple[str, str, object]]:
    """The mempool (every 5 min) and Coin Metrics (every 6 h) bodies due at ``t``.

    Args:
        t: the simulated time (UTC).
        price: the scenario's BTC price (hashprice follows it through the engine, not here).
    """
    since_midnight = t - t.replace(hour=0, minute=0, second=0, microsecond=0)
    out: list[tuple[str, str, object]] = []
    if not since_midnight % MEMPOOL_EVERY:
        out += [
            ("mempool", "difficulty", difficulty(t)),
            ("mempool", "hashrate", hashrate(t)),
            ("mempool", "rewards", rewards(t)),
        ]
    if not since_midnight % COINMETRICS_EVERY:
        out.append(("coinmetrics", "asset_metrics", asset_metrics(t)))
    return out


@cache
def _template(provider: str, name: str) -> Json:
    doc: Json = json.loads((DATA / provider / name).read_text())
    return doc


def _object(provider: str, name: str) -> dict[str, Json]:
    doc = copy.deepcopy(_template(provider, name))
    assert isinstance(doc, dict)
    return doc


def blocks_left(t: datetime) -> int:
    """Blocks to the next adjustment at ``t``: one block every 692.6 s from 5 Feb 00:00."""
    mined = int((t - START) / timedelta(milliseconds=BLOCK_MS))
    return LEFT_AT_START - mined


def difficulty(t: datetime) -> Json:
    """``/v1/difficulty-adjustment`` at ``t`` (milliseconds, as the backend sends them)."""
    doc = _object("mempool", "difficulty_adjustment_cypress_2024.json")
    left = blocks_left(t)
    done = 2016 - left
    now_ms = int(t.timestamp() * 1000)
    # The estimate wobbles by a few hundredths as blocks arrive.
    change = CHANGE + 0.03 * math.sin(now_ms / 3_600_000 / 5)
    doc |= {
        "progressPercent": done / 2016 * 100,
        "difficultyChange": change,
        "estimatedRetargetDate": now_ms + left * BLOCK_MS,
        "remainingBlocks": left,
        "remainingTime": left * BLOCK_MS,
        "previousRetarget": 1.14,
        "previousTime": int(EPOCH_START.timestamp()),
        "nextRetargetHeight": NEXT_HEIGHT,
        "timeAvg": BLOCK_MS,
        "adjustedTimeAvg": BLOCK_MS,
        "timeOffset": 0,
        "expectedBlocks": (t - EPOCH_START).total_seconds() / 600,
    }
    return doc


def _daily_hashrate(d: date) -> float:
    """EH/s: ~1,046 before the epoch, ~906 in it (the slow blocks), a little daily noise."""
    base = HASHRATE_EPOCH if d >= EPOCH_START.date() else HASHRATE_BEFORE
    return base * (1 + 0.012 * math.sin(d.toordinal() * 1.7))


def hashrate(t: datetime) -> Json:
    """``/v1/mining/hashrate/1m`` at ``t``: 30 daily averages, the epoch's start, the estimate."""
    doc = _object("mempool", "hashrate_3d_docs.json")
    today = t.date()
    days = [today - timedelta(days=k) for k in range(30, 0, -1)]
    doc["hashrates"] = [
        {
            "timestamp": int(datetime.combine(d, time(), tzinfo=UTC).timestamp()),
            "avgHashrate": _daily_hashrate(d) * 1e18,
        }
        for d in days
    ]
    doc["difficulty"] = [
        {
            "timestamp": int((EPOCH_START - timedelta(days=14)).timestamp()),
            "difficulty": PREVIOUS_DIFFICULTY,
            "height": NEXT_HEIGHT - 2 * 2016,
        },
        {
            "timestamp": int(EPOCH_START.timestamp()),
            "difficulty": DIFFICULTY,
            "height": NEXT_HEIGHT - 2016,
        },
    ]
    hours = (t - START).total_seconds() / 3600
    doc["currentHashrate"] = HASHRATE_EPOCH * (1 + 0.006 * math.sin(hours / 3)) * 1e18
    doc["currentDifficulty"] = DIFFICULTY
    return doc


def rewards(t: datetime) -> Json:
    """``/v1/mining/reward-stats/144`` at ``t``: the newest 144 blocks, sums in satoshis."""
    doc = _object("mempool", "reward_stats_100_docs.json")
    tip = NEXT_HEIGHT - blocks_left(t)
    fees = sum(FEE_SATS + int(200_000 * math.sin(h * 0.37)) for h in range(tip - 143, tip + 1))
    doc |= {
        "startBlock": tip - 143,
        "endBlock": tip,
        "totalReward": str(144 * SUBSIDY_SATS + fees),
        "totalFee": str(fees),
        "totalTx": str(144 * 3_870),
    }
    return doc


def _path(points: list[tuple[str, float]], d: date) -> float:
    """Straight lines between dated points (flat outside them)."""
    dated = [(date.fromisoformat(s), v) for s, v in points]
    if d <= dated[0][0]:
        return dated[0][1]
    for (d0, v0), (d1, v1) in itertools.pairwise(dated):
        if d0 <= d <= d1:
            return v0 + (v1 - v0) * (d - d0).days / (d1 - d0).days
    return dated[-1][1]


def _issued_btc(d: date) -> float:
    """New coins that day: 144 blocks x 3.125 BTC, fewer while blocks come every 692.6 s."""
    blocks = 86_400_000 / BLOCK_MS if d >= EPOCH_START.date() else 144.0
    return blocks * SUBSIDY_SATS / 1e8


@cache
def _days() -> list[tuple[date, float, float, float]]:
    """(day, market cap, realized cap, issuance in USD) from 20 Dec 2025 to 6 Feb 2026."""
    out: list[tuple[date, float, float, float]] = []
    realized = REALIZED_CAP_START
    supply = SUPPLY_START
    d = date(2025, 12, 20)
    while d <= date(2026, 2, 6):
        price = _path(CLOSES, d)
        new = _issued_btc(d)
        supply += new
        issued_usd = new * price
        # ΔRealizedCap = realized profit − realized loss + new coins at today's price.
        realized += _path(NET_PNL, d) + issued_usd
        out.append((d, supply * price, realized, issued_usd))
        d += timedelta(days=1)
    return out


def asset_metrics(t: datetime) -> Json:
    """The latest 40 daily rows Coin Metrics has published by ``t`` (newest last)."""
    doc = _object("coinmetrics", "asset_metrics_btc_2020-03.json")
    rows = doc["data"]
    assert isinstance(rows, list)
    template = rows[0]
    assert isinstance(template, dict)
    latest = (t - LANDS_AFTER).date() - timedelta(days=1)
    published = [row for row in _days() if row[0] <= latest][-ROWS:]
    data: list[Json] = []
    for d, market_cap, realized, issued_usd in published:
        row = dict(template)
        row |= {
            "time": f"{d.isoformat()}T00:00:00.000000000Z",
            "CapMrktCurUSD": f"{market_cap:.8f}",
            "CapMVRVCur": f"{market_cap / realized:.8f}",
            "IssTotUSD": f"{issued_usd:.8f}",
        }
        data.append(row)
    doc["data"] = data
    return doc

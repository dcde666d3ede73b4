"""mempool.space history: daily hashrate, difficulty adjustments and mean block rewards."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from statistics import fmean
from typing import Final

from tui.core.backfill.series import DAY, Request, Series, day_start
from tui.core.errors import ParseError
from tui.core.model import Json, Observation
from tui.core.sources import mempool
from tui.core.sources.parsing import field, number, timestamp

#: The documented ``:timePeriod`` values with history (mempool.space/docs/api/rest, "GET
#: Hashrate & Difficulty", "GET Block Rewards": 24h, 3d, 1w, 1m, 3m, 6m, 1y, 2y, 3y) and their
#: spans in days; a backfill asks for the shortest one that covers its range.
PERIODS: Final = (("1m", 30), ("3m", 91), ("6m", 182), ("1y", 365), ("2y", 730), ("3y", 1095))
MAX_DAYS: Final = PERIODS[-1][1]


def period(first: date, last: date) -> str:
    """The shortest documented period at least as long as ``[first, last]``.

    mempool counts the period back from its own now (``DATE_SUB(NOW(), INTERVAL 1 YEAR)``), so
    with ``1y`` the oldest of 365 asked days can come only in part (its midnight row is a few
    hours older than the cut): one asked-for day at the far edge may stay a gap.
    """
    days = (last - first).days + 1
    return next((p for p, span in PERIODS if span >= days), PERIODS[-1][0])


def hashrate_windows(first: date, last: date) -> list[Request]:
    """One request: ``/v1/mining/hashrate/<period>``."""
    return [Request(f"/v1/mining/hashrate/{period(first, last)}", (), first, last)]


def parse_hashrate(body: Json, fetched_at: datetime) -> list[Observation]:
    """Daily ``mining.hashrate`` (EH/s) and ``mining.difficulty`` at each adjustment.

    ``hashrates[]`` is read by the live :func:`tui.core.sources.mempool.parse_hashrate` (one
    ``{timestamp, avgHashrate}`` a UTC day, each at its day's timestamp); its "now" readings and
    today's partial day are left to the live source. ``difficulty[]`` holds the adjustments,
    grouped by UTC day (``DifficultyAdjustmentsRepository.$getAdjustments`` in mempool/mempool):
    ``{timestamp (s), difficulty, height}``; each becomes ``mining.difficulty`` at its time, the
    difficulty then holding until the next row.
    """
    today = day_start(fetched_at.astimezone(UTC).date())
    out = [
        o
        for o in mempool.parse_hashrate(body, fetched_at)
        if o.id == "mining.hashrate" and o.observed_at < today
    ]
    rows = field(body, "difficulty")
    if not isinstance(rows, list):
        raise ParseError(f"expected a list at 'difficulty', got {type(rows).__name__}")
    for i in range(len(rows)):
        at = timestamp(field(rows, i, "timestamp"), what=f"difficulty[{i}].timestamp")
        value = number(
            field(rows, i, "difficulty"),
            what=f"difficulty[{i}].difficulty",
            lo=mempool.DIFFICULTY_RANGE[0],
            hi=mempool.DIFFICULTY_RANGE[1],
        )
        if at < fetched_at:
            out.append(Observation("mining.difficulty", value, "", mempool.NAME, at))
    return out


def rewards_windows(first: date, last: date) -> list[Request]:
    """One request: ``/v1/mining/blocks/rewards/<period>``."""
    return [Request(f"/v1/mining/blocks/rewards/{period(first, last)}", (), first, last)]


def parse_rewards(body: Json, fetched_at: datetime) -> list[Observation]:
    """``mining.reward_144`` (BTC): the mean reward per block (subsidy + fees) of each UTC day.

    ``[{avgHeight, timestamp (s), avgRewards (sats)}]``, oldest first: for ``1y`` each row is the
    mean over the blocks of an 8-hour bucket (``mining.ts`` ``getTimeRange``: 28800 s for 1y/2y,
    43200 s for 3y; ``BlocksRepository.$getHistoricalBlockRewards``). A UTC day's buckets are
    averaged into that day's value: its ~144 blocks, the live id's span, observed at the 00:00
    UTC that ends the day (when a trailing 144-block mean would read it). Today's partial day is
    left to the live source.
    """
    if not isinstance(body, list):
        raise ParseError(f"expected a list of reward buckets, got {type(body).__name__}")
    today = fetched_at.astimezone(UTC).date()
    by_day: dict[date, list[float]] = defaultdict(list)
    for i in range(len(body)):
        at = timestamp(field(body, i, "timestamp"), what=f"[{i}].timestamp")
        sats = number(field(body, i, "avgRewards"), what=f"[{i}].avgRewards", lo=0.0, hi=2.1e15)
        btc = sats / mempool.SATS_PER_BTC
        if not mempool.REWARD_RANGE_BTC[0] <= btc <= mempool.REWARD_RANGE_BTC[1]:
            raise ParseError(f"[{i}].avgRewards: {btc:g} BTC a block is implausible")
        by_day[at.astimezone(UTC).date()].append(btc)
    return [
        Observation("mining.reward_144", fmean(v), "BTC", mempool.NAME, day_start(d) + DAY)
        for d, v in sorted(by_day.items())
        if d < today
    ]


SERIES: Final = (
    Series(
        source=mempool.NAME,
        key="mempool.hashrate",
        title="mempool hashrate + difficulty",
        ids=("mining.hashrate", "mining.difficulty"),
        windows=hashrate_windows,
        parse=parse_hashrate,
        docs_url="https://mempool.space/docs/api/rest#get-hashrate",
        single=True,
        max_days=MAX_DAYS,
        reach_note="mempool documents hashrate periods up to 3y",
        # Undisclosed limits; "exceeding them gives HTTP 429" (mempool.space/docs/api/rest).
        min_spacing_s=1.0,
    ),
    Series(
        source=mempool.NAME,
        key="mempool.rewards",
        title="mempool block rewards",
        ids=("mining.reward_144",),
        windows=rewards_windows,
        parse=parse_rewards,
        day_end=True,
        docs_url="https://mempool.space/docs/api/rest#get-block-rewards",
        single=True,
        max_days=MAX_DAYS,
        reach_note="mempool documents reward periods up to 3y",
        min_spacing_s=1.0,
    ),
)

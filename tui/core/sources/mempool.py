"""mempool.space: the next difficulty adjustment, network hashrate and 144-block rewards (§12)."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from tui.core.errors import ParseError
from tui.core.model import Json, Observation
from tui.core.sources.parsing import field, number, timestamp
from tui.core.sources.spec import Endpoint, SourceSpec

NAME: Final = "mempool"

#: Blocks per difficulty epoch (consensus rule); ``remainingBlocks`` is 1..2016.
EPOCH_BLOCKS: Final = 2016
#: The backend clamps ``difficultyChange`` to the protocol's x4 and /4 limits: -75..+300 %
#: (``backend/src/api/difficulty-adjustment.ts`` in GitHub mempool/mempool).
CHANGE_RANGE: Final = (-75.0, 300.0)
#: Mainnet only: 1 PH/s .. 10^6 EH/s. Testnet and signet nodes answer far below this, and a
#: backend without Bitcoin Core answers ``0`` (``mining-routes.ts`` zeroes it on failure).
HASHRATE_RANGE_HS: Final = (1e15, 1e24)
#: Mainnet difficulty has been above 1e9 since 2011 (31.25 T in mempool's own 2022 example).
DIFFICULTY_RANGE: Final = (1e9, 1e18)
#: Average reward per block in BTC: subsidy (3.125 since block 840,000) plus fees.
REWARD_RANGE_BTC: Final = (0.01, 1_000.0)
SATS_PER_BTC: Final = 1e8
EH: Final = 1e18


def _object(body: Json, what: str) -> dict[str, Json]:
    if not isinstance(body, dict):
        raise ParseError(f"{what}: expected an object at the top level, got {_kind(body)}")
    return body


def _kind(value: Json) -> str:
    return "null" if value is None else type(value).__name__


def _count(value: Json, what: str, lo: float, hi: float) -> int:
    n = number(value, what=what, lo=lo, hi=hi)
    if not n.is_integer():
        raise ParseError(f"{what}: expected a whole number, got {n:g}")
    return int(n)


def parse_difficulty(body: Json, fetched_at: datetime) -> list[Observation]:
    """``mining.difficulty.next_change`` (%), ``.blocks_left`` and ``.retarget_at`` (unix s).

    ``GET /v1/difficulty-adjustment``. ``estimatedRetargetDate`` is milliseconds in the backend
    (``difficulty-adjustment.ts``: "Unix time in ms") but seconds in the REST docs example, so
    its unit is read from its magnitude (SOURCES.md §12). The body has no time of its own.
    """
    doc = _object(body, "difficulty-adjustment")
    change = number(
        field(doc, "difficultyChange"),
        what="difficultyChange",
        lo=CHANGE_RANGE[0],
        hi=CHANGE_RANGE[1],
    )
    left = _count(field(doc, "remainingBlocks"), "remainingBlocks", 0, EPOCH_BLOCKS)
    at = timestamp(field(doc, "estimatedRetargetDate"), what="estimatedRetargetDate")
    return [
        Observation("mining.difficulty.next_change", change, "%", NAME, fetched_at),
        Observation("mining.difficulty.blocks_left", float(left), "blocks", NAME, fetched_at),
        Observation("mining.difficulty.retarget_at", at.timestamp(), "unix s", NAME, fetched_at),
    ]


def _hashrate_eh(value: Json, what: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        raise ParseError(f"{what} is 0: the mempool backend has no Bitcoin Core answer")
    return number(value, what=what, lo=HASHRATE_RANGE_HS[0], hi=HASHRATE_RANGE_HS[1]) / EH


def parse_hashrate(body: Json, fetched_at: datetime) -> list[Observation]:
    """``mining.hashrate`` (EH/s) and ``mining.difficulty`` now, plus daily hashrate history.

    ``GET /v1/mining/hashrate/1m``: ``currentHashrate`` is Bitcoin Core's ``getnetworkhashps``
    over the last 1008 blocks (about 7 days) in H/s, ``currentDifficulty`` the tip's difficulty
    (``mining-routes.ts``); ``hashrates[]`` holds one ``{timestamp (s), avgHashrate (H/s)}`` a
    day, each kept as a past ``mining.hashrate`` row. Values near 1e21 exceed exact float
    integers; that precision is irrelevant here.
    """
    doc = _object(body, "hashrate")
    current = _hashrate_eh(field(doc, "currentHashrate"), "currentHashrate")
    difficulty = number(
        field(doc, "currentDifficulty"),
        what="currentDifficulty",
        lo=DIFFICULTY_RANGE[0],
        hi=DIFFICULTY_RANGE[1],
    )
    rows = field(doc, "hashrates")
    if not isinstance(rows, list):
        raise ParseError(f"expected a list at 'hashrates', got {_kind(rows)}")
    out: list[Observation] = []
    for i in range(len(rows)):
        at = timestamp(field(doc, "hashrates", i, "timestamp"), what=f"hashrates[{i}].timestamp")
        value = _hashrate_eh(
            field(doc, "hashrates", i, "avgHashrate"), f"hashrates[{i}].avgHashrate"
        )
        # A daily average dated after the fetch would pass for the current estimate.
        if at < fetched_at:
            out.append(Observation("mining.hashrate", value, "EH/s", NAME, at))
    out.append(Observation("mining.hashrate", current, "EH/s", NAME, fetched_at))
    out.append(Observation("mining.difficulty", difficulty, "", NAME, fetched_at))
    return out


def parse_rewards(body: Json, fetched_at: datetime) -> list[Observation]:
    """``mining.reward_144``: the mean reward per block in BTC (subsidy + fees).

    ``GET /v1/mining/reward-stats/144`` sums ``reward`` and ``fees`` (satoshis, sent as strings)
    over the newest ``blockCount`` blocks (``BlocksRepository.$getBlockStats``). The mean is
    taken over ``endBlock - startBlock + 1`` blocks: 144 here, fewer on a node that has not
    indexed that many. This is the 144-block fee average of the Hashrate Index convention.
    """
    doc = _object(body, "reward-stats")
    start = _count(field(doc, "startBlock"), "startBlock", 0, 1e8)
    end = _count(field(doc, "endBlock"), "endBlock", 0, 1e8)
    blocks = end - start + 1
    if not 1 <= blocks <= 10_000:
        raise ParseError(f"startBlock {start} and endBlock {end} do not make a block range")
    total = number(field(doc, "totalReward"), what="totalReward", lo=0.0, hi=2.1e15)
    fees = number(field(doc, "totalFee"), what="totalFee", lo=0.0, hi=2.1e15)
    if fees > total:
        raise ParseError("totalFee is larger than totalReward")
    per_block = total / blocks / SATS_PER_BTC
    if not REWARD_RANGE_BTC[0] <= per_block <= REWARD_RANGE_BTC[1]:
        raise ParseError(f"reward per block {per_block:g} BTC is implausible")
    return [Observation("mining.reward_144", per_block, "BTC", NAME, fetched_at)]


SPEC: Final = SourceSpec(
    name=NAME,
    title="mempool.space",
    bucket="mining",
    # Self-hosted nodes serve the same API: [sources.mempool] base_url = "http://node:8999/api".
    base_url="https://mempool.space/api",
    endpoints=(
        Endpoint("difficulty", "/v1/difficulty-adjustment", parse_difficulty),
        Endpoint("hashrate", "/v1/mining/hashrate/1m", parse_hashrate),
        Endpoint("rewards", "/v1/mining/reward-stats/144", parse_rewards),
    ),
    # The hashrate answer is cached for 300 s (its Expires header); reward stats for 60 s.
    interval_s=300.0,
    docs_url="https://mempool.space/docs/api/rest",
    # Limits are undisclosed; "exceeding them gives HTTP 429 and repeat offenders get banned"
    # (mempool.space/docs/api/rest). Three requests every 5 minutes, a second apart.
    min_spacing_s=1.0,
)

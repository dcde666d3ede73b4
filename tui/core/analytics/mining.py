"""Hashprice: miners' USD revenue per PH/s per day, from difficulty, rewards and price (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from tui.core.analytics import History
from tui.core.config import Settings
from tui.core.model import CONSENSUS, Board, Observation

SOURCE: Final = "mempool"
HASHPRICE: Final = "mining.hashprice"
UNIT: Final = "USD/PH/s/day"
#: The article's record-low context: "hashprice under $32 per PH/s per day (a record low)".
RECORD_LOW: Final = 32.0
#: Blocks a day at the 600 s target: the hashrate form's (and Hashrate Index's) 144.
BLOCKS_PER_DAY: Final = 144
_PH: Final = 1e15
_DAY_S: Final = 86_400
#: Expected hashes per block = difficulty x 2^32 (the difficulty-1 target is 2^224 / 2^32).
_TWO_32: Final = 2**32

#: The inputs, as ``(id, source)``: every one must be fresh for a hashprice.
INPUTS: Final = (
    ("mining.difficulty", SOURCE),
    ("mining.reward_144", SOURCE),
    ("btc.price", CONSENSUS),
)


def blocks_per_ph_day(difficulty: float) -> float:
    """Blocks one PH/s finds in a day on average: ``1e15 x 86,400 / (difficulty x 2^32)``."""
    return _PH * _DAY_S / (difficulty * _TWO_32)


def hashprice(difficulty: float, reward_btc: float, price_usd: float) -> float:
    """USD per PH/s per day (SOURCES.md §12, the Luxor / Hashrate Index definition).

    Args:
        difficulty: the current network difficulty.
        reward_btc: mean reward per block in BTC, subsidy + fees (fees as the 144-block mean).
        price_usd: BTC price in USD.
    """
    return blocks_per_ph_day(difficulty) * reward_btc * price_usd


def hashprice_from_hashrate(hashrate_eh: float, reward_btc: float, price_usd: float) -> float:
    """The same from a hashrate (EH/s): ``144 x reward x price / PH/s``.

    Equal to :func:`hashprice` when hashrate = difficulty x 2^32 / 600; mempool's hashrate is a
    7-day estimate, so the two differ while blocks come faster or slower than every 10 minutes.
    """
    return BLOCKS_PER_DAY * reward_btc * price_usd / (hashrate_eh * 1_000.0)


def _fresh(board: Board, id_: str, source: str, now: datetime) -> Observation | None:
    """The latest ``(id_, source)`` unless it is stale on the Board or at ``now``."""
    o = board.observations.get((id_, source))
    if o is None:
        return None
    limit = board.stale_after.get(source)
    if board.as_reading(o).stale or (limit is not None and o.age_s(now) > limit):
        return None
    return o


def derive(board: Board, history: History, now: datetime, settings: Settings) -> list[Observation]:
    """``mining.hashprice`` (source ``mempool``) from fresh difficulty, rewards and price.

    Observed at the oldest input's time, so its age never flatters it. Returns ``[]`` when an
    input is missing or stale (never a zero).
    """
    inputs = [_fresh(board, id_, source, now) for id_, source in INPUTS]
    if any(o is None for o in inputs):
        return []
    difficulty, reward, price = (o for o in inputs if o is not None)
    if difficulty.value <= 0:
        return []
    value = hashprice(difficulty.value, reward.value, price.value)
    at = min(difficulty.observed_at, reward.observed_at, price.observed_at)
    return [Observation(HASHPRICE, value, UNIT, SOURCE, at)]


def formula(board: Board) -> tuple[str, ...]:
    """The hashprice formula with the Board's latest numbers filled in, for the drill-down.

    Inputs that are missing show as ``?``; the last line checks the result against the
    hashrate form when a hashrate is known.
    """
    d = board.reading("mining.difficulty", SOURCE)
    r = board.reading("mining.reward_144", SOURCE)
    p = board.reading("btc.price", CONSENSUS)
    h = board.reading("mining.hashrate", SOURCE)
    lines = [
        "hashprice = blocks per PH/s per day × reward per block × BTC price",
        "blocks per PH/s per day = 10^15 × 86,400 ÷ (difficulty × 2^32)",
    ]
    bpd: float | None = None
    if d is not None and d.observation.value > 0:
        bpd = blocks_per_ph_day(d.observation.value)
        lines.append(
            f"  = 10^15 × 86,400 ÷ ({d.observation.value / 1e12:,.2f} T × {_TWO_32:,}) = {bpd:.8f}"
        )
    else:
        lines.append("  difficulty: ?")
    reward = r.observation.value if r is not None else None
    price = p.observation.value if p is not None else None
    lines.append(
        "reward per block = 144-block total reward ÷ 144 = "
        + (f"{reward:.5f} BTC (subsidy + fees)" if reward is not None else "?")
    )
    lines.append("BTC price = " + (f"${price:,.0f} (consensus)" if price is not None else "?"))
    if bpd is not None and reward is not None and price is not None:
        value = bpd * reward * price
        low = " (record low < $32)" if value < RECORD_LOW else ""
        lines.append(
            f"hashprice = {bpd:.8f} × {reward:.5f} × ${price:,.0f} = ${value:,.2f} /PH/s/day{low}"
        )
    else:
        lines.append("hashprice = ? (an input is missing)")
    if h is not None and reward is not None and price is not None and h.observation.value > 0:
        eh = h.observation.value
        check = hashprice_from_hashrate(eh, reward, price)
        lines.append(
            f"check: 144 × {reward:.5f} × ${price:,.0f} ÷ {eh * 1_000:,.0f} PH/s"
            f" = ${check:,.2f} (from the 7-day hashrate estimate)"
        )
    return tuple(lines)

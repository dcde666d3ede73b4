"""Options analytics on a BTC chain (pure): deltas, 25Δ skew, ATM term structure, put OI, max pain.

Conventions (SOURCES.md §9), all in one place:

- **Instruments** ``BTC-27FEB26-60000-P``: the day has one or two digits, expiry is 08:00 UTC.
- **Time** ``T`` in years, ACT/365, from the chain's fetch time to the expiry.
- **Model** Black-76 on each row's ``underlying_price`` (the forward of its expiry), r = 0 (BTC rows
  publish ``interest_rate`` 0), ``sigma = mark_iv / 100``. Deribit's own ``greeks.delta`` is this
  plain delta: a real ``public/ticker`` body agrees to its 5 printed digits
  (tests/data/deribit/README.md).
- **Junk rule** (which quotes may shape a smile): a quote is dropped when its ``mark_iv`` is not a
  finite number in 1..500 vol points, when it has no bid and no open interest (a mark nobody
  trades), or when it has no bid and is deep out of the money (``|Δ| < 0.05``: stale wings).
  Expiries less than one day out are left out of the smiles (their vols are numerically noisy).
  Open-interest metrics (put OI, max pain) use every live row with a finite OI, whatever its IV.
- **Smile per expiry**: one IV per strike, from the out-of-the-money option (call at or above the
  forward, put below) or, failing that, the other one (same mark IV by put-call parity).
- **25Δ points**: IV interpolated linearly in call delta at Δc = 0.25 (the 25Δ call) and at
  Δc = 0.75, where the put's delta Δc − 1 is −0.25 (the 25Δ put). RR = IV(25Δc) − IV(25Δp).
- **ATM IV**: IV interpolated linearly in ln(K/F) at K = F.
- **Constant maturity** (7/30/90 days): total variance ``w = sigma² T`` interpolated linearly in
  ``T`` between the bracketing expiries, ``sigma = √(w/τ)`` (Cboe VIX method; QuantLib
  BlackVarianceCurve). Outside the listed range the vol of the nearest expiry is held flat and
  the result says it is extrapolated. Fewer than two usable expiries is "not enough data": one
  expiry has no term structure. The RR interpolates the 25Δ call and 25Δ put vols so, each on
  its own, then subtracts them.
- **Max pain** per expiry: the listed strike S with the least payout to holders,
  ``Σ_calls OI·max(S−K, 0) + Σ_puts OI·max(K−S, 0)`` (OI in BTC, one BTC per contract).

"Not enough data" is a value (:class:`NotEnough` with the reason), never an exception.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

#: ACT/365 (SOURCES.md §9; Deribit does not publish its year basis).
YEAR: Final = timedelta(days=365)
#: Expiries closer than this are left out of the smiles and the term structure (SOURCES.md §9).
MIN_DAYS: Final = 1.0
#: Plausible mark IV in vol points (SOURCES.md §0); anything else is junk.
IV_RANGE: Final = (1.0, 500.0)
#: A quote this far out of the money (|Δ| below it) with no bid is a stale wing, not a price.
DEEP_OTM_DELTA: Final = 0.05
#: Constant maturities, in days, of the published skew and ATM readings (DOMAIN.md).
RR_DAYS: Final = (7, 30)
ATM_DAYS: Final = (7, 30, 90)
#: Put OI in the retest band counts expiries at most this many days out (DOMAIN.md).
BAND_MAX_DAYS: Final = 45
#: Deribit options expire at 08:00 UTC (SOURCES.md §5).
EXPIRY_HOUR: Final = 8

_MONTHS: Final = {
    m: i + 1
    for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
    )
}
# CCY-DMMMYY-STRIKE-C|P; alt-coin linear options write a decimal point as "d" (1d25 = 1.25).
_NAME = re.compile(r"([A-Z0-9_]+)-(\d{1,2})([A-Z]{3})(\d{2})-(\d+(?:d\d+)?)-([CP])")
_SQRT2: Final = math.sqrt(2.0)


@dataclass(frozen=True, slots=True)
class NotEnough:
    """A metric that cannot be formed from this chain, and why (``one expiry``, ``no bids``...)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Instrument:
    """What an option's name says."""

    currency: str
    """``BTC`` (or ``XRP_USDC`` for an alt-coin linear option)."""
    expiry: datetime
    """08:00 UTC on the expiry day."""
    strike: float
    is_call: bool


@dataclass(frozen=True, slots=True)
class Quote:
    """One option row of the chain, already read (numbers may be NaN where the body had none)."""

    instrument: str
    expiry: datetime
    strike: float
    is_call: bool
    mark_iv: float
    """Implied vol of the mark price, in vol points (45.36 = 45.36 %)."""
    forward: float
    """The row's ``underlying_price`` in USD: its expiry's future or synthetic forward."""
    open_interest: float
    """In BTC (options OI is in the base coin)."""
    bid: float | None
    """Best bid in BTC; ``None`` when nobody bids."""


@dataclass(frozen=True, slots=True)
class SmilePoint:
    """One strike of an expiry's smile."""

    strike: float
    iv: float
    """Vol points."""
    call_delta: float
    """Black-76 call delta at this strike's own IV (the put's is ``call_delta - 1``)."""
    from_call: bool
    """Which option the IV came from."""


@dataclass(frozen=True, slots=True)
class DeltaPoint:
    """An interpolated 25Δ point: where on the strike axis it sits, and its IV."""

    strike: float
    iv: float


@dataclass(frozen=True, slots=True)
class ExpirySmile:
    """The smile of one expiry and the points read off it."""

    expiry: datetime
    t_years: float
    forward: float
    """Median ``underlying_price`` of the expiry's rows."""
    points: tuple[SmilePoint, ...]
    """Ascending strikes; only quotes that passed the junk rule."""
    atm_iv: float | NotEnough
    call25: DeltaPoint | NotEnough
    put25: DeltaPoint | NotEnough
    dropped: int = 0
    """Quotes of this expiry the junk rule kept out of the smile."""


@dataclass(frozen=True, slots=True)
class Tenor:
    """A constant-maturity value in vol points."""

    days: int
    value: float
    extrapolated: bool
    """True when ``days`` lies outside the listed expiries (the nearest expiry's vol held flat)."""


@dataclass(frozen=True, slots=True)
class MaxPain:
    """The max-pain strike of one expiry."""

    expiry: datetime
    strike: float
    payout: float
    """What holders would get at that settlement, in USD."""


@dataclass(frozen=True, slots=True)
class PutBand:
    """Put open interest inside a price band, over the near expiries."""

    low: float
    high: float
    band_oi: float
    """BTC, strikes ``low <= K <= high``."""
    total_oi: float
    """BTC, every put strike of the same expiries."""
    share_pct: float
    expiries: tuple[datetime, ...]
    """The expiries counted (those at most :data:`BAND_MAX_DAYS` days out)."""


@dataclass(frozen=True, slots=True)
class ChainAnalysis:
    """Everything :func:`analyze` reads off one chain."""

    at: datetime
    smiles: tuple[ExpirySmile | NotEnough, ...]
    """One per live expiry, nearest first (``NotEnough`` for an expiry without a usable smile)."""
    expiries: tuple[datetime, ...]
    """The live expiries, nearest first (aligned with ``smiles`` and ``max_pain``)."""
    rr25: tuple[tuple[int, Tenor | NotEnough], ...]
    """``(days, value)`` for :data:`RR_DAYS`."""
    atm_iv: tuple[tuple[int, Tenor | NotEnough], ...]
    """``(days, value)`` for :data:`ATM_DAYS`."""
    term_slope: float | NotEnough
    """ATM 90d − ATM 7d in vol points; negative = inverted."""
    put_band: PutBand | NotEnough
    max_pain: tuple[MaxPain | NotEnough, ...]
    filtered: int
    """Quotes the junk rule kept out of the smiles."""


@dataclass(frozen=True, slots=True)
class ChainRow:
    """One strike of one expiry in the option-chain screen."""

    strike: float
    call_oi: float | None
    """BTC; ``None`` when no call is listed at this strike."""
    put_oi: float | None
    iv: float | None
    """The smile IV at this strike; ``None`` when the junk rule dropped it."""
    in_band: bool
    """The strike lies inside the retest band."""


@dataclass(frozen=True, slots=True)
class ChainExpiry:
    """One expiry column of the option-chain screen."""

    expiry: datetime
    days: float
    forward: float
    rows: tuple[ChainRow, ...]
    smile: tuple[SmilePoint, ...]
    atm_iv: float | NotEnough
    call25: DeltaPoint | NotEnough
    put25: DeltaPoint | NotEnough
    max_pain: MaxPain | NotEnough
    call_oi: float
    put_oi: float


@dataclass(frozen=True, slots=True)
class ChainTable:
    """The view model of the option-chain screen: strike × expiry OI, smiles, 25Δ, max pain."""

    at: datetime
    expiries: tuple[ChainExpiry, ...]
    strikes: tuple[float, ...]
    """Every listed strike, ascending (the table's rows)."""
    max_oi: float
    """The largest single call or put OI: the scale of the heat colouring."""
    band_low: float
    band_high: float


@functools.lru_cache(maxsize=4096)
def parse_instrument(name: str) -> Instrument | None:
    """Read an option name such as ``BTC-27FEB26-60000-P`` or ``BTC-9OCT26-50000-C``.

    Returns ``None`` for anything that is not an option name (futures, combos, bad dates).
    """
    m = _NAME.fullmatch(name)
    if m is None:
        return None
    currency, day, month, year, strike, kind = m.groups()
    if month not in _MONTHS:
        return None
    try:
        expiry = datetime(2000 + int(year), _MONTHS[month], int(day), EXPIRY_HOUR, tzinfo=UTC)
    except ValueError:  # 31FEB26
        return None
    value = float(strike.replace("d", "."))
    if value <= 0:
        return None
    return Instrument(currency, expiry, value, kind == "C")


def norm_cdf(x: float) -> float:
    """The standard normal CDF Φ(x)."""
    return 0.5 * math.erfc(-x / _SQRT2)


def bs_delta(forward: float, strike: float, sigma: float, t_years: float, is_call: bool) -> float:
    """Black-76 delta with r = 0: ``N(d1)`` for a call, ``N(d1) − 1`` for a put.

    ``d1 = (ln(F/K) + sigma² T/2) / (sigma √T)``.

    Raises:
        ValueError: unless forward, strike, sigma and t_years are finite and positive.
    """
    if not all(math.isfinite(v) and v > 0 for v in (forward, strike, sigma, t_years)):
        raise ValueError("forward, strike, sigma and t_years must be finite and positive")
    sd = sigma * math.sqrt(t_years)
    d1 = (math.log(forward / strike) + 0.5 * sd * sd) / sd
    call = norm_cdf(d1)
    return call if is_call else call - 1.0


def years(now: datetime, expiry: datetime) -> float:
    """Years from ``now`` to ``expiry`` (ACT/365); negative once expired."""
    return (expiry - now) / YEAR


def junk_reason(q: Quote, t_years: float) -> str | None:
    """Why ``q`` may not shape a smile (the module's junk rule), or ``None`` when it may."""
    iv = q.mark_iv
    if not (math.isfinite(iv) and IV_RANGE[0] <= iv <= IV_RANGE[1]):
        return "IV outside 1..500"
    if not (math.isfinite(q.forward) and q.forward > 0):
        return "no forward"
    has_bid = q.bid is not None and q.bid > 0
    if has_bid:
        return None
    if not (math.isfinite(q.open_interest) and q.open_interest > 0):
        return "no bid, no open interest"
    if abs(bs_delta(q.forward, q.strike, iv / 100.0, t_years, q.is_call)) < DEEP_OTM_DELTA:
        return "no bid, deep out of the money"
    return None


def _interp(x: float, x0: float, x1: float, y0: float, y1: float) -> float:
    return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def _at_delta(points: Sequence[SmilePoint], target: float) -> DeltaPoint | NotEnough:
    """Interpolate strike and IV where the call delta crosses ``target`` (points by strike)."""
    for a, b in itertools.pairwise(points):
        # Call delta falls as the strike rises; the first crossing is the one nearest the money.
        if a.call_delta >= target >= b.call_delta:
            iv = _interp(target, a.call_delta, b.call_delta, a.iv, b.iv)
            strike = _interp(target, a.call_delta, b.call_delta, a.strike, b.strike)
            return DeltaPoint(strike, iv)
    return NotEnough(f"no strikes either side of call delta {target:g}")


def _atm(points: Sequence[SmilePoint], forward: float) -> float | NotEnough:
    for a, b in itertools.pairwise(points):
        if a.strike <= forward <= b.strike:
            x0, x1 = math.log(a.strike / forward), math.log(b.strike / forward)
            return _interp(0.0, x0, x1, a.iv, b.iv)
    return NotEnough("no strikes either side of the forward")


def _forward(quotes: Iterable[Quote]) -> float | None:
    fs = [q.forward for q in quotes if math.isfinite(q.forward) and q.forward > 0]
    return statistics.median(fs) if fs else None


def expiry_smile(quotes: Sequence[Quote], now: datetime) -> ExpirySmile | NotEnough:
    """The smile of one expiry's quotes at ``now``, with its ATM IV and 25Δ points."""
    if not quotes:
        return NotEnough("no quotes")
    expiry = quotes[0].expiry
    t = years(now, expiry)
    if t * 365.0 < MIN_DAYS:
        return NotEnough("less than a day to expiry")
    forward = _forward(quotes)
    if forward is None:
        return NotEnough("no underlying price")
    usable: dict[float, list[Quote]] = {}
    dropped = 0
    for q in quotes:
        if junk_reason(q, t) is None:
            usable.setdefault(q.strike, []).append(q)
        else:
            dropped += 1
    points: list[SmilePoint] = []
    for strike in sorted(usable):
        candidates = usable[strike]
        otm_call = strike >= forward
        q = next((c for c in candidates if c.is_call == otm_call), candidates[0])
        delta = bs_delta(q.forward, strike, q.mark_iv / 100.0, t, True)
        points.append(SmilePoint(strike, q.mark_iv, delta, q.is_call))
    if len(points) < 2:
        return NotEnough("fewer than two usable strikes")
    return ExpirySmile(
        expiry,
        t,
        forward,
        tuple(points),
        _atm(points, forward),
        _at_delta(points, 0.25),
        _at_delta(points, 0.75),
        dropped,
    )


def constant_maturity(vols: Sequence[tuple[float, float]], days: int) -> Tenor | NotEnough:
    """The vol at ``days`` from ``(t_years, vol_points)`` per expiry, linear in total variance.

    Outside the listed range the nearest expiry's vol is held flat (``extrapolated``).
    Fewer than two expiries is :class:`NotEnough`.
    """
    pts = sorted((t, v) for t, v in vols if t > 0 and math.isfinite(v) and v > 0)
    if len(pts) < 2:
        return NotEnough(f"needs two expiries at least a day out, has {len(pts)}")
    tau = days / 365.0
    (t_first, v_first), (t_last, v_last) = pts[0], pts[-1]
    if tau <= t_first:
        return Tenor(days, v_first, tau < t_first)
    if tau >= t_last:
        return Tenor(days, v_last, tau > t_last)
    for (t0, v0), (t1, v1) in itertools.pairwise(pts):
        if t0 <= tau <= t1:
            w = _interp(tau, t0, t1, v0 * v0 * t0, v1 * v1 * t1)
            return Tenor(days, math.sqrt(w / tau), False)
    return NotEnough("no bracketing expiries")  # unreachable: the range was checked above


def max_pain(quotes: Sequence[Quote]) -> MaxPain | NotEnough:
    """The max-pain strike of one expiry's quotes (ties: the lowest strike).

    One sweep over the sorted strikes: at strike S the calls below pay ``S·ΣOI − ΣOI·K`` and the
    puts above pay ``ΣOI·K − S·ΣOI`` (running sums), so a 900-row chain costs microseconds.
    """
    rows = [q for q in quotes if math.isfinite(q.open_interest) and q.open_interest >= 0]
    if not any(q.open_interest > 0 for q in rows):
        return NotEnough("no open interest")
    call_oi: dict[float, float] = {}
    put_oi: dict[float, float] = {}
    for q in rows:
        book = call_oi if q.is_call else put_oi
        book[q.strike] = book.get(q.strike, 0.0) + q.open_interest
    strikes = sorted({q.strike for q in rows})
    # Puts: every put is "above" the lowest strike to start with.
    put_n = sum(put_oi.values())
    put_nk = sum(oi * k for k, oi in put_oi.items())
    call_n = call_nk = 0.0
    best: tuple[float, float] | None = None
    for s in strikes:
        # Calls strictly below s pay s − K; puts strictly above s pay K − s (at K = s both pay 0).
        payout = (s * call_n - call_nk) + (put_nk - s * put_n)
        # Running sums leave rounding dust (±1e-8 where the truth is 0): clamp at zero, and only a
        # clearly smaller payout beats the best so far, so exact ties go to the lowest strike.
        payout = max(payout, 0.0)
        if best is None or payout < best[1] - 1e-6 * max(1.0, best[1] * 1e-9):
            best = (s, payout)
        c, p = call_oi.get(s, 0.0), put_oi.get(s, 0.0)
        call_n, call_nk = call_n + c, call_nk + c * s
        put_n, put_nk = put_n - p, put_nk - p * s
    assert best is not None
    return MaxPain(rows[0].expiry, best[0], best[1])


def put_band(
    quotes: Sequence[Quote],
    now: datetime,
    low: float,
    high: float,
    max_days: int = BAND_MAX_DAYS,
) -> PutBand | NotEnough:
    """Put OI at strikes ``low..high`` and its share of all put OI, expiries ≤ ``max_days`` out."""
    horizon = now + timedelta(days=max_days)
    near = [
        q
        for q in quotes
        if not q.is_call
        and now < q.expiry <= horizon
        and math.isfinite(q.open_interest)
        and q.open_interest >= 0
    ]
    total = sum(q.open_interest for q in near)
    if total <= 0:
        return NotEnough(f"no put open interest in expiries ≤ {max_days} days out")
    band = sum(q.open_interest for q in near if low <= q.strike <= high)
    expiries = tuple(sorted({q.expiry for q in near}))
    return PutBand(low, high, band, total, band / total * 100.0, expiries)


def _by_expiry(quotes: Iterable[Quote], now: datetime) -> dict[datetime, list[Quote]]:
    seen: set[str] = set()
    groups: dict[datetime, list[Quote]] = {}
    for q in quotes:
        if q.instrument in seen or q.expiry <= now:
            continue
        seen.add(q.instrument)
        groups.setdefault(q.expiry, []).append(q)
    return dict(sorted(groups.items()))


def _vols(smiles: Sequence[ExpirySmile], attr: str) -> list[tuple[float, float]]:
    """``(t_years, iv)`` of each smile's ``atm_iv``, ``call25`` or ``put25`` where it exists."""
    out: list[tuple[float, float]] = []
    for s in smiles:
        v = getattr(s, attr)
        if isinstance(v, DeltaPoint):
            out.append((s.t_years, v.iv))
        elif isinstance(v, float):
            out.append((s.t_years, v))
    return out


def _rr(smiles: Sequence[ExpirySmile], days: int) -> Tenor | NotEnough:
    # Only expiries with both 25Δ points, so the call and put legs share their expiries.
    both = [
        s for s in smiles if isinstance(s.call25, DeltaPoint) and isinstance(s.put25, DeltaPoint)
    ]
    c = constant_maturity(_vols(both, "call25"), days)
    p = constant_maturity(_vols(both, "put25"), days)
    if isinstance(c, NotEnough):
        return c
    if isinstance(p, NotEnough):
        return p
    return Tenor(days, c.value - p.value, c.extrapolated or p.extrapolated)


def analyze(
    quotes: Sequence[Quote],
    now: datetime,
    band_low: float = 50_000.0,
    band_high: float = 60_000.0,
) -> ChainAnalysis | NotEnough:
    """Every chain metric at ``now``: smiles, RR25, ATM term structure, put band, max pain.

    Args:
        quotes: the chain's rows (duplicates by name count once; expired ones are ignored).
        now: the chain's fetch time (``T`` is measured from it).
        band_low: the retest band's lower strike, USD.
        band_high: its upper strike, USD.

    Returns:
        :class:`NotEnough` for an empty chain or one whose expiries have all passed; otherwise a
        :class:`ChainAnalysis` in which each metric is a value or its own :class:`NotEnough`.
    """
    if not quotes:
        return NotEnough("empty chain")
    groups = _by_expiry(quotes, now)
    if not groups:
        return NotEnough("every expiry in the chain has passed")
    smiles = tuple(expiry_smile(qs, now) for qs in groups.values())
    good = [s for s in smiles if isinstance(s, ExpirySmile)]
    filtered = sum(s.dropped for s in good)
    atm_vols = _vols(good, "atm_iv")
    atm = tuple((d, constant_maturity(atm_vols, d)) for d in ATM_DAYS)
    rr = tuple((d, _rr(good, d)) for d in RR_DAYS)
    a7, a90 = constant_maturity(atm_vols, 7), constant_maturity(atm_vols, 90)
    slope: float | NotEnough
    if isinstance(a7, NotEnough):
        slope = a7
    elif isinstance(a90, NotEnough):
        slope = a90
    else:
        slope = a90.value - a7.value
    live = [q for qs in groups.values() for q in qs]
    return ChainAnalysis(
        at=now,
        smiles=smiles,
        expiries=tuple(groups),
        rr25=rr,
        atm_iv=atm,
        term_slope=slope,
        put_band=put_band(live, now, band_low, band_high),
        max_pain=tuple(max_pain(qs) for qs in groups.values()),
        filtered=filtered,
    )


def chain_table(
    quotes: Sequence[Quote],
    now: datetime,
    band_low: float = 50_000.0,
    band_high: float = 60_000.0,
) -> ChainTable | NotEnough:
    """The option-chain screen's view model: per expiry × strike call and put OI, smiles, 25Δ
    points, ATM IV and max pain. :class:`NotEnough` for an empty or fully expired chain."""
    if not quotes:
        return NotEnough("empty chain")
    groups = _by_expiry(quotes, now)
    if not groups:
        return NotEnough("every expiry in the chain has passed")
    columns: list[ChainExpiry] = []
    max_oi = 0.0
    for expiry, qs in groups.items():
        smile = expiry_smile(qs, now)
        ivs = {p.strike: p.iv for p in smile.points} if isinstance(smile, ExpirySmile) else {}
        calls: dict[float, float] = {}
        puts: dict[float, float] = {}
        for q in qs:
            oi = q.open_interest if math.isfinite(q.open_interest) else 0.0
            (calls if q.is_call else puts)[q.strike] = oi
        rows = tuple(
            ChainRow(k, calls.get(k), puts.get(k), ivs.get(k), band_low <= k <= band_high)
            for k in sorted({q.strike for q in qs})
        )
        max_oi = max([max_oi, *calls.values(), *puts.values()])
        forward = _forward(qs)
        if isinstance(smile, ExpirySmile):
            points, atm, c25, p25 = smile.points, smile.atm_iv, smile.call25, smile.put25
        else:
            points, atm, c25, p25 = (), smile, smile, smile
        columns.append(
            ChainExpiry(
                expiry=expiry,
                days=years(now, expiry) * 365.0,
                forward=forward if forward is not None else math.nan,
                rows=rows,
                smile=points,
                atm_iv=atm,
                call25=c25,
                put25=p25,
                max_pain=max_pain(qs),
                call_oi=sum(calls.values()),
                put_oi=sum(puts.values()),
            )
        )
    strikes = tuple(sorted({q.strike for qs in groups.values() for q in qs}))
    return ChainTable(now, tuple(columns), strikes, max_oi, band_low, band_high)

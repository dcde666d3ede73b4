"""Options analytics: textbook deltas, a smile with known 25Δ points, constant maturity, max pain
by hand, a real Deribit chain end to end, and "not enough data" instead of exceptions."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from statistics import NormalDist

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import body
from tui.core.analytics import options
from tui.core.analytics.options import (
    ChainAnalysis,
    DeltaPoint,
    ExpirySmile,
    MaxPain,
    NotEnough,
    PutBand,
    Quote,
    Tenor,
)
from tui.core.sources import deribit

NOW = datetime(2026, 2, 5, 12, 0, tzinfo=UTC)
PHI_INV = NormalDist().inv_cdf


def quote(
    strike: float,
    is_call: bool,
    iv: float = 50.0,
    *,
    expiry: datetime = datetime(2026, 2, 27, 8, tzinfo=UTC),
    forward: float = 100_000.0,
    oi: float = 10.0,
    bid: float | None = 0.01,
) -> Quote:
    name = f"BTC-{expiry.day}{expiry:%b%y}".upper() + f"-{strike:g}-{'C' if is_call else 'P'}"
    return Quote(name, expiry, strike, is_call, iv, forward, oi, bid)


# --- instrument names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expiry", "strike", "is_call"),
    [
        ("BTC-27FEB26-60000-P", datetime(2026, 2, 27, 8, tzinfo=UTC), 60_000.0, False),
        ("BTC-9OCT26-50000-C", datetime(2026, 10, 9, 8, tzinfo=UTC), 50_000.0, True),
        ("BTC-6JUL26-54000-P", datetime(2026, 7, 6, 8, tzinfo=UTC), 54_000.0, False),
        ("XRP_USDC-21SEP26-1d25-C", datetime(2026, 9, 21, 8, tzinfo=UTC), 1.25, True),
    ],
)
def test_instrument_names(name: str, expiry: datetime, strike: float, is_call: bool) -> None:
    inst = options.parse_instrument(name)
    assert inst is not None
    assert (inst.expiry, inst.strike, inst.is_call) == (expiry, strike, is_call)
    assert inst.expiry.hour == 8
    assert inst.expiry.tzinfo is UTC


@pytest.mark.parametrize(
    "name",
    [
        "BTC-PERPETUAL",
        "BTC-27FEB26",
        "BTC-31FEB26-60000-P",  # no such day
        "BTC-27FOO26-60000-P",
        "btc-27feb26-60000-p",
        "BTC-27FEB26-0-C",
        "BTC-127FEB26-60000-C",
        "BTC-27FEB26-60000-X",
        "",
    ],
)
def test_names_that_are_not_options(name: str) -> None:
    assert options.parse_instrument(name) is None


# --- Black-76 delta --------------------------------------------------------------------------


def forward_for(d1: float, strike: float, sigma: float, t: float) -> float:
    """The forward that puts d1 exactly where the test wants it."""
    sd = sigma * math.sqrt(t)
    return strike * math.exp(d1 * sd - 0.5 * sd * sd)


@pytest.mark.parametrize(
    ("d1", "phi"),
    # Φ to 15 digits (Abramowitz & Stegun, Table 26.1).
    [
        (0.1, 0.539827837277029),
        (1.0, 0.841344746068543),
        (-0.5, 0.308537538725987),
        (1.96, 0.975002104851780),
    ],
)
def test_delta_matches_normal_table(d1: float, phi: float) -> None:
    for sigma, t in ((0.2, 1.0), (0.5, 0.25), (0.8, 7 / 365)):
        f = forward_for(d1, 60_000.0, sigma, t)
        assert options.bs_delta(f, 60_000.0, sigma, t, True) == pytest.approx(phi, abs=1e-6)
        assert options.bs_delta(f, 60_000.0, sigma, t, False) == pytest.approx(phi - 1, abs=1e-6)


def test_at_the_money_forward_delta_by_hand() -> None:
    # F = K, sigma 0.2, T = 1: d1 = sigma√T / 2 = 0.1.
    assert options.bs_delta(70_000, 70_000, 0.2, 1.0, True) == pytest.approx(
        0.539827837277029, abs=1e-12
    )


def test_hull_call_delta() -> None:
    # Hull, Options, Futures and Other Derivatives, Example 19.1: S0 49, K 50, r 5 %, sigma
    # 20 %, T 20 weeks; "the delta of the call is N(d1) = 0.522". Black-76 on F = S0·e^(rT) has
    # the same d1.
    t = 20 / 52
    f = 49 * math.exp(0.05 * t)
    assert options.bs_delta(f, 50, 0.2, t, True) == pytest.approx(0.522, abs=5e-4)


def test_delta_agrees_with_deribits_own_greek() -> None:
    """A real public/ticker answer carries Deribit's delta: ours agrees to its 5 printed digits."""
    doc = json.loads(body("deribit", "ticker_option_btc_26jun26_100000_c.json"))
    r = doc["result"]
    inst = options.parse_instrument(r["instrument_name"])
    assert inst is not None
    at = datetime.fromtimestamp(r["timestamp"] / 1000, UTC)
    delta = options.bs_delta(
        r["underlying_price"],
        inst.strike,
        r["mark_iv"] / 100,
        options.years(at, inst.expiry),
        inst.is_call,
    )
    assert round(delta, 5) == r["greeks"]["delta"] == 0.71138


@pytest.mark.parametrize(
    "args", [(0, 1, 0.5, 1), (1, 0, 0.5, 1), (1, 1, 0, 1), (1, 1, 0.5, 0), (1, 1, math.nan, 1)]
)
def test_delta_refuses_impossible_inputs(args: tuple[float, float, float, float]) -> None:
    with pytest.raises(ValueError, match="finite and positive"):
        options.bs_delta(*args, True)


# --- the junk rule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "why"),
    [
        (quote(100_000, True, iv=0.5), "IV outside 1..500"),
        (quote(100_000, True, iv=501), "IV outside 1..500"),
        (quote(100_000, True, iv=math.nan), "IV outside 1..500"),
        (quote(100_000, True, bid=None, oi=0), "no bid, no open interest"),
        (quote(100_000, True, bid=0.0, oi=math.nan), "no bid, no open interest"),
        (quote(200_000, True, bid=None, oi=50), "no bid, deep out of the money"),
        (quote(100_000, True, forward=math.nan), "no forward"),
    ],
)
def test_junk_quotes_are_named(q: Quote, why: str) -> None:
    assert options.junk_reason(q, 22 / 365) == why


@pytest.mark.parametrize(
    "q",
    [
        quote(100_000, True),
        quote(100_000, True, oi=0),  # a bid makes it a price, open interest or not
        quote(110_000, True, bid=None, oi=5),  # no bid, but held and near the money
        quote(200_000, True, oi=0, bid=0.0005),  # deep out of the money, but bid
    ],
)
def test_usable_quotes(q: Quote) -> None:
    assert options.junk_reason(q, 22 / 365) is None


# --- a smile whose 25Δ points are known in closed form ---------------------------------------


def strike_at(delta: float, iv: float, f: float, t: float) -> float:
    """The strike whose call delta at vol ``iv`` is exactly ``delta``:
    K = F·exp(s²/2 − s·Φ⁻¹(Δ)) with s = sigma·√T."""
    sd = iv / 100 * math.sqrt(t)
    return f * math.exp(0.5 * sd * sd - sd * PHI_INV(delta))


def smile_chain(f: float = 100_000.0, expiry: datetime = NOW + timedelta(days=30)) -> list[Quote]:
    t = options.years(NOW, expiry)
    # Call deltas and IVs: 25Δ call between 0.30 (50) and 0.20 (54) -> 52; the 25Δ put is where
    # the call delta is 0.75, between 0.80 (66) and 0.70 (60) -> 63.
    by_delta = [(0.90, 70.0), (0.80, 66.0), (0.70, 60.0), (0.30, 50.0), (0.20, 54.0), (0.10, 58.0)]
    strikes = [(strike_at(d, iv, f, t), iv) for d, iv in by_delta]
    # Two strikes at ln(K/F) = ∓0.05 with IVs 56 and 58: ATM (ln(K/F) = 0) is their mean, 57.
    strikes += [(f * math.exp(-0.05), 56.0), (f * math.exp(0.05), 58.0)]
    out = []
    for k, iv in strikes:
        for is_call in (True, False):
            out.append(quote(k, is_call, iv, expiry=expiry, forward=f))
    return out


def test_smile_with_known_25_delta_points() -> None:
    smile = options.expiry_smile(smile_chain(), NOW)
    assert isinstance(smile, ExpirySmile)
    assert isinstance(smile.call25, DeltaPoint)
    assert isinstance(smile.put25, DeltaPoint)
    assert smile.call25.iv == pytest.approx(52.0, abs=1e-9)
    assert smile.put25.iv == pytest.approx(63.0, abs=1e-9)
    assert smile.atm_iv == pytest.approx(57.0, abs=1e-9)
    # The 25Δ call sits between the 0.30 and 0.20 strikes, the 25Δ put below the forward.
    assert smile.call25.strike > smile.forward > smile.put25.strike
    # Every point uses the out-of-the-money option.
    assert all(p.from_call == (p.strike >= smile.forward) for p in smile.points)


def test_a_flat_smile_has_zero_risk_reversal() -> None:
    chain = [
        quote(k, c, 48.0, expiry=e)
        for e in (NOW + timedelta(days=6), NOW + timedelta(days=35))
        for k in range(60_000, 150_001, 2_500)
        for c in (True, False)
    ]
    result = options.analyze(chain, NOW)
    assert isinstance(result, ChainAnalysis)
    for _, rr in result.rr25:
        assert isinstance(rr, Tenor)
        assert rr.value == pytest.approx(0.0, abs=1e-9)
    for _, atm in result.atm_iv:
        assert isinstance(atm, Tenor)
        assert atm.value == pytest.approx(48.0, abs=1e-9)


def test_one_sided_smile_has_no_25_delta_put() -> None:
    calls_only = [q for q in smile_chain() if q.strike > 100_000]
    smile = options.expiry_smile(calls_only, NOW)
    assert isinstance(smile, ExpirySmile)
    assert isinstance(smile.put25, NotEnough)
    assert isinstance(smile.atm_iv, NotEnough)


# --- constant maturity -----------------------------------------------------------------------


def test_total_variance_interpolation_by_hand() -> None:
    # 5 days at 50 %, 10 days at 60 %: w(7) = 0.25·5 + (0.36·10 − 0.25·5)·2/5 = 2.19 (vol²·days).
    got = options.constant_maturity([(5 / 365, 50.0), (10 / 365, 60.0)], 7)
    assert got == Tenor(7, pytest.approx(100 * math.sqrt(2.19 / 7)), False)  # type: ignore[arg-type]
    assert got.value == pytest.approx(55.93363, abs=1e-5)  # type: ignore[union-attr]


def test_constant_maturity_at_and_outside_the_listed_range() -> None:
    vols = [(5 / 365, 50.0), (10 / 365, 60.0)]
    assert options.constant_maturity(vols, 5) == Tenor(5, 50.0, False)
    assert options.constant_maturity(vols, 10) == Tenor(10, 60.0, False)
    # Outside: the nearest expiry's vol held flat, and said so.
    assert options.constant_maturity(vols, 2) == Tenor(2, 50.0, True)
    assert options.constant_maturity(vols, 90) == Tenor(90, 60.0, True)


@pytest.mark.parametrize(
    "vols", [[], [(10 / 365, 60.0)], [(10 / 365, math.nan), (20 / 365, 50.0)], [(-1.0, 40.0)]]
)
def test_constant_maturity_needs_two_expiries(vols: list[tuple[float, float]]) -> None:
    got = options.constant_maturity(vols, 30)
    assert isinstance(got, NotEnough)
    assert "two expiries" in got.reason


def test_chain_interpolates_between_its_two_expiries() -> None:
    near, far = NOW + timedelta(days=5), NOW + timedelta(days=10)
    chain = [
        quote(k, c, iv, expiry=e)
        for e, iv in ((near, 50.0), (far, 60.0))
        for k in range(70_000, 130_001, 2_000)
        for c in (True, False)
    ]
    result = options.analyze(chain, NOW)
    assert isinstance(result, ChainAnalysis)
    atm = dict(result.atm_iv)
    assert atm[7] == Tenor(7, pytest.approx(100 * math.sqrt(2.19 / 7)), False)  # type: ignore[arg-type]
    assert atm[30] == Tenor(30, pytest.approx(60.0), True)  # type: ignore[arg-type]
    assert result.term_slope == pytest.approx(60.0 - 100 * math.sqrt(2.19 / 7))


# --- max pain and the put band ---------------------------------------------------------------


def test_max_pain_by_hand() -> None:
    # Calls 50k:2, 60k:10, 70k:5; puts 50k:20, 60k:4, 70k:1 (BTC).
    # S=50k: puts 4·10k + 1·20k = 60k.  S=60k: calls 2·10k + puts 1·10k = 30k.
    # S=70k: calls 2·20k + 10·10k = 140k.  Max pain: 60k, holders get $30,000.
    chain = [
        quote(50_000, True, oi=2),
        quote(60_000, True, oi=10),
        quote(70_000, True, oi=5),
        quote(50_000, False, oi=20),
        quote(60_000, False, oi=4),
        quote(70_000, False, oi=1),
    ]
    assert options.max_pain(chain) == MaxPain(chain[0].expiry, 60_000.0, 30_000.0)


def test_max_pain_ties_go_to_the_lowest_strike() -> None:
    chain = [quote(50_000, True, oi=0), quote(60_000, False, oi=0), quote(55_000, True, oi=1)]
    # Only the 55k call is held: any S <= 55k pays 0.
    assert options.max_pain(chain) == MaxPain(chain[0].expiry, 50_000.0, 0.0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=40).map(lambda i: i * 2_500.0),
            st.booleans(),
            st.floats(min_value=0, max_value=5_000, allow_nan=False),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_max_pain_sweep_equals_brute_force(rows: list[tuple[float, bool, float]]) -> None:
    chain = [quote(k, c, oi=oi) for k, c, oi in rows]
    got = options.max_pain(chain)
    if not any(oi > 0 for _, _, oi in rows):
        assert isinstance(got, NotEnough)
        return
    assert isinstance(got, MaxPain)

    def payout(s: float) -> float:
        return sum(oi * max(s - k, 0) if c else oi * max(k - s, 0) for k, c, oi in rows)

    best = min(payout(k) for k, _, _ in rows)
    assert got.payout == pytest.approx(best, rel=1e-9, abs=1e-6)
    assert payout(got.strike) == pytest.approx(best, rel=1e-9, abs=1e-6)


def test_put_band_by_hand() -> None:
    soon, late = NOW + timedelta(days=22), NOW + timedelta(days=50)
    chain = [
        quote(50_000, False, oi=10, expiry=soon),
        quote(55_000, False, oi=20, expiry=soon),
        quote(60_000, False, oi=30, expiry=soon),
        quote(65_000, False, oi=40, expiry=soon),  # outside the band
        quote(55_000, True, oi=99, expiry=soon),  # a call
        quote(55_000, False, oi=500, expiry=late),  # more than 45 days out
    ]
    got = options.put_band(chain, NOW, 50_000, 60_000)
    assert got == PutBand(50_000, 60_000, 60.0, 100.0, 60.0, (soon,))


def test_put_band_without_put_open_interest() -> None:
    got = options.put_band([quote(55_000, False, oi=0), quote(55_000, True)], NOW, 50_000, 60_000)
    assert isinstance(got, NotEnough)


# --- a real chain, end to end ----------------------------------------------------------------


def real_chain() -> tuple[tuple[Quote, ...], datetime]:
    doc = json.loads(body("deribit", "book_summary_option_trimmed.json"))
    quotes, skipped = deribit.read_chain(doc)
    assert skipped == 0
    return quotes, datetime.fromtimestamp(doc["usOut"] / 1e6, UTC)


def test_real_chain_end_to_end() -> None:
    """The real (trimmed) book summary: numbers checked by hand from its rows."""
    quotes, at = real_chain()
    result = options.analyze(quotes, at)
    assert isinstance(result, ChainAnalysis)
    assert [f"{e:%d%b%y}".upper() for e in result.expiries] == [
        "06JUL26", "24JUL26", "28AUG26", "25SEP26", "25DEC26"
    ]  # fmt: skip
    # 6 Jul and 24 Jul list one strike each: no smile.
    assert [type(s).__name__ for s in result.smiles] == [
        "NotEnough", "NotEnough", "ExpirySmile", "ExpirySmile", "ExpirySmile"
    ]  # fmt: skip
    aug = result.smiles[2]
    assert isinstance(aug, ExpirySmile)
    # ATM of 28 Aug: between the 56000 put (43.43) and the 105000 call (48.58), in ln(K/F).
    f = 63358.41
    x0, x1 = math.log(56_000 / f), math.log(105_000 / f)
    assert aug.atm_iv == pytest.approx(43.43 + (48.58 - 43.43) * (0 - x0) / (x1 - x0))
    # 90d lies past 25 Sep, whose ATM is the last one: held flat; 7d and 30d before 28 Aug.
    atm = dict(result.atm_iv)
    sep = result.smiles[3]
    assert isinstance(sep, ExpirySmile)
    assert atm[7] == Tenor(7, aug.atm_iv, True)  # type: ignore[arg-type]
    assert atm[90] == Tenor(90, sep.atm_iv, True)  # type: ignore[arg-type]
    assert result.term_slope == pytest.approx(sep.atm_iv - aug.atm_iv)  # type: ignore[operator]
    # Puts within 45 days: 6 Jul 54000 (75.3) and 24 Jul 56000 (23.8), both in 50k–60k.
    assert result.put_band == PutBand(
        50_000, 60_000, pytest.approx(99.1), pytest.approx(99.1), 100.0, result.expiries[:2]
    )  # type: ignore[arg-type]
    # 28 Aug: S=48000 pays 655.6·8000 (put), S=56000 pays 37.5·8000 (call), S=105000 pays
    # 37.5·57000: max pain 56000, $300,000.
    pains = {p.expiry: p for p in result.max_pain if isinstance(p, MaxPain)}
    assert pains[result.expiries[2]] == MaxPain(result.expiries[2], 56_000.0, 300_000.0)
    assert result.filtered == 0


def test_real_chain_table() -> None:
    quotes, at = real_chain()
    table = options.chain_table(quotes, at)
    assert isinstance(table, options.ChainTable)
    assert table.max_oi == 6874.1  # BTC-25DEC26-80000-C
    assert table.strikes[0] == 35_000
    assert table.strikes[-1] == 135_000
    aug = table.expiries[2]
    assert [(r.strike, r.call_oi, r.put_oi, r.in_band) for r in aug.rows] == [
        (48_000, 37.5, None, False),
        (56_000, None, 655.6, True),
        (105_000, 161.3, None, False),
    ]
    assert aug.max_pain == MaxPain(aug.expiry, 56_000.0, 300_000.0)
    assert (aug.call_oi, aug.put_oi) == (pytest.approx(198.8), 655.6)
    assert [p.strike for p in aug.smile] == [48_000, 56_000, 105_000]
    assert isinstance(aug.call25, DeltaPoint)
    assert isinstance(aug.put25, DeltaPoint)
    near = table.expiries[0]
    assert isinstance(near.atm_iv, NotEnough)
    assert near.smile == ()
    assert near.rows[0].iv is None  # 6 Jul lists one strike and is under two days out: no smile


# --- not enough data, never an exception -----------------------------------------------------

EXPIRIES = [NOW + timedelta(days=d) for d in (0.5, 3, 10, 24, 52, 142)]
quotes_st = st.builds(
    Quote,
    instrument=st.text(max_size=6),
    expiry=st.sampled_from([*EXPIRIES, NOW - timedelta(days=1)]),
    strike=st.floats(min_value=1_000, max_value=500_000),
    is_call=st.booleans(),
    mark_iv=st.one_of(st.just(math.nan), st.floats(min_value=-10, max_value=1_000)),
    forward=st.one_of(st.just(math.nan), st.floats(min_value=1_000, max_value=500_000)),
    open_interest=st.one_of(st.just(math.nan), st.just(0.0), st.floats(0, 1e5)),
    bid=st.one_of(st.none(), st.floats(min_value=0, max_value=2)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(quotes_st, max_size=60), st.floats(0, 200_000), st.floats(0, 200_000))
def test_any_chain_gives_values_or_reasons(quotes: list[Quote], lo: float, hi: float) -> None:
    result = options.analyze(quotes, NOW, lo, hi)
    table = options.chain_table(quotes, NOW, lo, hi)
    if not quotes:
        assert result == NotEnough("empty chain")
        assert table == NotEnough("empty chain")
        return
    assert isinstance(result, ChainAnalysis | NotEnough)
    assert isinstance(table, options.ChainTable | NotEnough)
    if isinstance(result, ChainAnalysis):
        for _, v in (*result.rr25, *result.atm_iv):
            assert isinstance(v, NotEnough) or math.isfinite(v.value)
        for p in result.max_pain:
            assert isinstance(p, NotEnough) or (math.isfinite(p.payout) and p.payout >= 0)


@settings(max_examples=200, deadline=None)
@given(st.lists(quotes_st, min_size=1, max_size=40))
def test_one_expiry_has_no_term_structure(quotes: list[Quote]) -> None:
    one = [
        replace(q, instrument=f"{q.instrument}{i}", expiry=EXPIRIES[3])
        for i, q in enumerate(quotes)
    ]
    result = options.analyze(one, NOW)
    assert isinstance(result, ChainAnalysis)
    assert all(isinstance(v, NotEnough) for _, v in (*result.rr25, *result.atm_iv))
    assert isinstance(result.term_slope, NotEnough)


@settings(max_examples=200, deadline=None)
@given(st.lists(quotes_st, min_size=1, max_size=40))
def test_all_zero_open_interest(quotes: list[Quote]) -> None:
    zero = [replace(q, open_interest=0.0) for q in quotes]
    result = options.analyze(zero, NOW)
    if isinstance(result, NotEnough):
        assert "passed" in result.reason
        return
    assert isinstance(result.put_band, NotEnough)
    assert all(isinstance(p, NotEnough) for p in result.max_pain)


@settings(max_examples=200, deadline=None)
@given(st.lists(quotes_st, min_size=1, max_size=40))
def test_nan_iv_everywhere(quotes: list[Quote]) -> None:
    blind = [replace(q, mark_iv=math.nan) for q in quotes]
    result = options.analyze(blind, NOW)
    if isinstance(result, NotEnough):
        return
    assert all(isinstance(s, NotEnough) for s in result.smiles)
    assert all(isinstance(v, NotEnough) for _, v in (*result.rr25, *result.atm_iv))

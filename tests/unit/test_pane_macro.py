"""The macro pane view: rows, ages ("closed" vs stale), fallbacks named, missing explained."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tui.core.analytics.macro import change_id, change_unit
from tui.core.config import Settings
from tui.core.model import CONSENSUS, DAILY, Board, Observation, SourceStatus, Status
from tui.core.panes import PaneView
from tui.core.panes.macro import view
from tui.core.sources.yahoo import ASSETS

AFTER_CLOSE = datetime(2026, 2, 6, 22, 30, tzinfo=UTC)  # Friday: every market shut
SESSION = datetime(2026, 2, 6, 16, tzinfo=UTC)  # Friday 11:00 New York
STALE = {"yahoo": 900.0, "stooq": 1800.0, "fred": 64_800.0, CONSENSUS: 64_800.0}

#: The article's 6 Feb: level, day move, 30-day corr with BTC (levels and corr are made up).
SIXTH = {
    "spx": (6_931.98, 1.97, 0.41),
    "ndx": (23_031.8, 2.18, 0.44),
    "dji": (49_515.34, 2.47, 0.32),
    "sox": (7_979.18, 5.7, 0.38),
    "gold": (5_024.9, 3.9, 0.12),
    "silver": (85.526, 8.6, 0.18),
    "dxy": (97.659, -0.2, -0.27),
    "us10y": (4.22, 0.24, -0.05),
}


def text(pane: PaneView) -> str:
    """The pane as the dashboard lays it out (a plain-text snapshot)."""
    lines = [
        f"{r.label:<24} {r.glyph:1} {r.value:>10}  {r.detail}  [{r.age}] {r.tone}"
        for r in pane.rows
    ]
    return "\n".join([*lines, pane.note])


def friday(at: datetime) -> list[Observation]:
    out: list[Observation] = []
    for asset, (lvl, chg, corr) in SIXTH.items():
        unit = ASSETS[asset].unit
        t = min(at, datetime(2026, 2, 6, 21, tzinfo=UTC)) - timedelta(minutes=2)
        out += [
            Observation(f"macro.{asset}", lvl, unit, "yahoo", t),
            Observation(f"macro.{asset}.chg_1d", chg, "%", "yahoo", t),
            Observation(f"macro.corr30d.{asset}", corr, "corr", DAILY, t),
        ]
    moves = {"ndx": 1.1, "sox": 3.4, "us10y": -7.0, "dxy": -0.3}
    out += [
        Observation(change_id(a, 3), v, change_unit(a), "yahoo", min(at, AFTER_CLOSE))
        for a, v in moves.items()
    ]
    return out


def board(
    obs: list[Observation], at: datetime, statuses: list[SourceStatus] | None = None
) -> Board:
    return Board("demo", at).with_updates(
        now=at, observations=obs, statuses=statuses or [], stale_after=STALE
    )


def test_snapshot_after_the_friday_close() -> None:
    pane = view(board(friday(AFTER_CLOSE), AFTER_CLOSE), Settings())
    assert text(pane) == "\n".join(
        [
            "macro rebound            ✓       held  tech ✓  yields ✓  dollar ✓  [closed] bullish",
            "S&P 500                  ▲   6,931.98  +1.97 % · corr +0.41 · yahoo  [closed] bullish",
            "Nasdaq                   ▲  23,031.80  +2.18 % · corr +0.44 · yahoo  [closed] bullish",
            "Dow                      ▲  49,515.34  +2.47 % · corr +0.32 · yahoo  [closed] bullish",
            "SOX                      ▲   7,979.18  +5.70 % · corr +0.38 · yahoo  [closed] bullish",
            "Gold                     ▲  $5,024.90  +3.90 % · corr +0.12 · yahoo  [closed] bullish",
            "Silver                   ▲     $85.53  +8.60 % · corr +0.18 · yahoo  [closed] bullish",
            # The dollar falling is risk-on: a down glyph in a bullish tone.
            "Dollar index             ▼      97.66  -0.20 % · corr -0.27 · yahoo  [closed] bullish",
            "US 10y yield             ▲     4.22 %  +0.24 % · corr -0.05 · yahoo  [closed] bearish",
            "tech stabilising         ✓       held  ndx +1.10 % · sox +3.40 %  "
            "(ndx and sox not down over 3 days; yahoo)  [] bullish",
            "yields not tightening    ✓       held  us10y -7.00 bp  "
            "(us10y not up more than 10 bp over 3 days; yahoo)  [] bullish",
            "dollar not strengthening ✓       held  dxy -0.30 %  "
            "(dxy not up more than 0.5 % over 3 days; yahoo)  [] bullish",
            "corr: 30-day correlation of daily returns with BTC; moves over N trading days",
        ]
    )


def test_open_market_shows_age_and_a_stale_value_as_stale() -> None:
    obs = friday(SESSION)
    rows = {r.label: r for r in view(board(obs, SESSION), Settings()).rows}
    assert rows["S&P 500"].age == "2m"
    old = [o for o in obs if o.id != "macro.spx"]
    old.append(Observation("macro.spx", 6_900.0, "index", "yahoo", SESSION - timedelta(hours=1)))
    row = next(r for r in view(board(old, SESSION), Settings()).rows if r.label == "S&P 500")
    assert (row.age, row.tone) == ("stale 1h", "stale")


def test_fallback_provider_is_named_and_the_note_says_why() -> None:
    limited = SourceStatus(
        "yahoo",
        Status.RATE_LIMITED,
        "rate-limited until 16:05 UTC",
        until=SESSION + timedelta(minutes=5),
    )
    obs = [o for o in friday(SESSION) if not (o.id == "macro.spx" or o.id.endswith("chg_1d"))]
    obs += [
        Observation("macro.spx", 6_900.0, "index", "yahoo", SESSION - timedelta(hours=1)),
        Observation("macro.spx", 6_925.5, "index", "stooq", SESSION - timedelta(minutes=4)),
        Observation("macro.dxy", 118.24, "index", "fred", SESSION - timedelta(hours=1)),
    ]
    obs = [o for o in obs if o.id != "macro.dxy" or o.source == "fred"]
    pane = view(board(obs, SESSION, [limited]), Settings())
    rows = {r.label: r for r in pane.rows}
    spx = rows["S&P 500"]
    assert (spx.value, spx.age, spx.glyph) == ("6,925.50", "4m", "")
    assert spx.detail == "day move n/a · corr +0.41 · stooq (fallback)"  # Stooq has no day move
    assert "fred: broad dollar index (FRED DTWEXBGS), not ICE DXY" in rows["Dollar index"].detail
    assert pane.note.startswith("yahoo: rate-limited until 16:05 UTC")


def test_missing_values_say_why_never_zero() -> None:
    failing = SourceStatus("yahoo", Status.BLOCKED, "blocked: HTTP 403")
    pane = view(board([], SESSION, [failing]), Settings())
    assets = pane.rows[1:9]
    assert [r.value for r in assets] == ["yahoo: blocked: HTTP 403"] * 8
    assert {(r.tone, r.glyph, r.age) for r in assets} == {("missing", "✕", "")}
    assert [r.value for r in pane.rows[9:]] == ["waiting"] * 3
    assert pane.rows[0].value == "waiting"
    assert not any(r.value.strip().startswith("0") for r in pane.rows)
    quiet = view(board([], SESSION), Settings())
    assert quiet.rows[1].value == "waiting for yahoo, stooq, fred"

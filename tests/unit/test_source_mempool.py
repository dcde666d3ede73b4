"""mempool.space parsers on mempool's published examples and recorded bodies."""

from __future__ import annotations

import copy
import json
import math
from datetime import UTC, datetime
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import body
from tui.core.errors import FetchError, ParseError
from tui.core.model import Json, Observation
from tui.core.sources import mempool
from tui.core.sources.spec import Parser

FETCHED = datetime(2026, 2, 6, 12, 0, 3, tzinfo=UTC)


def load(name: str) -> Json:
    parsed: Json = json.loads(body("mempool", name))
    return parsed


def with_field(doc: Json, key: str, value: Json) -> Json:
    out = copy.deepcopy(doc)
    assert isinstance(out, dict)
    out[key] = value
    return out


# --- difficulty adjustment -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "change", "left", "retarget_s"),
    [
        # REST docs example: estimatedRetargetDate in seconds (1627762478 = 2021-07-31 20:14:38).
        ("difficulty_adjustment_docs.json", 98.45932018381687, 1121, 1627762478.0),
        # WebSocket docs example and a recorded 2024 answer: milliseconds, as the backend sends.
        ("difficulty_adjustment_ws_mainnet.json", 0.7843046881601534, 1361, 1735514828.279),
        ("difficulty_adjustment_cypress_2024.json", 5.914788959658535, 1606, 1712766704.114),
    ],
)
def test_difficulty_change_blocks_left_and_retarget_date_in_seconds(
    name: str, change: float, left: int, retarget_s: float
) -> None:
    obs = mempool.parse_difficulty(load(name), FETCHED)
    assert [(o.id, o.unit) for o in obs] == [
        ("mining.difficulty.next_change", "%"),
        ("mining.difficulty.blocks_left", "blocks"),
        ("mining.difficulty.retarget_at", "unix s"),
    ]
    assert obs[0].value == change
    assert obs[1].value == left
    assert obs[2].value == pytest.approx(retarget_s, abs=1e-3)
    # The body has no time of its own.
    assert {(o.source, o.observed_at) for o in obs} == {("mempool", FETCHED)}


def test_seconds_and_milliseconds_give_the_same_date() -> None:
    ws = load("difficulty_adjustment_ws_mainnet.json")
    assert isinstance(ws, dict)
    as_seconds = with_field(ws, "estimatedRetargetDate", 1735514828)
    ms = mempool.parse_difficulty(ws, FETCHED)[2].value
    s = mempool.parse_difficulty(as_seconds, FETCHED)[2].value
    assert ms - s == pytest.approx(0.279)


def test_liquid_answer_without_an_estimate_is_a_parse_error() -> None:
    # Liquid has no difficulty: mempool's docs show difficultyChange null there.
    with pytest.raises(ParseError, match="difficultyChange: expected a number, got null"):
        mempool.parse_difficulty(load("difficulty_adjustment_ws_liquid.json"), FETCHED)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("difficultyChange", -80.0, "difficultyChange: -80 outside -75..300"),
        ("difficultyChange", "nan", "difficultyChange: expected a number"),
        ("remainingBlocks", 2017, "remainingBlocks: 2017 outside 0..2016"),
        ("remainingBlocks", 12.5, "remainingBlocks: expected a whole number"),
        ("estimatedRetargetDate", 5, "estimatedRetargetDate: implausible time"),
    ],
)
def test_bad_difficulty_fields(key: str, value: Json, message: str) -> None:
    doc = with_field(load("difficulty_adjustment_ws_mainnet.json"), key, value)
    with pytest.raises(ParseError, match=message):
        mempool.parse_difficulty(doc, FETCHED)


# --- hashrate ------------------------------------------------------------------------------


def test_hashrate_now_difficulty_and_daily_history() -> None:
    obs = mempool.parse_hashrate(load("hashrate_3d_docs.json"), FETCHED)
    history = [o for o in obs if o.observed_at != FETCHED]
    assert [(o.id, o.observed_at, round(o.value, 6)) for o in history] == [
        ("mining.hashrate", datetime(2022, 5, 14, tzinfo=UTC), 236.499762),
        ("mining.hashrate", datetime(2022, 5, 15, tzinfo=UTC), 217.473277),
        ("mining.hashrate", datetime(2022, 5, 16, tzinfo=UTC), 189.877204),
    ]
    now = {o.id: o for o in obs if o.observed_at == FETCHED}
    # currentHashrate 252033247355212300000 H/s = 252.03 EH/s.
    assert now["mining.hashrate"].value == pytest.approx(252.0332473552123)
    assert now["mining.hashrate"].unit == "EH/s"
    assert now["mining.difficulty"].value == 31251101365711.12
    assert {o.source for o in obs} == {"mempool"}


def test_daily_rows_not_before_the_fetch_are_left_out() -> None:
    # Fetched on the day of the last daily row (2022-05-16 00:00): that row would outrank now.
    fetched = datetime(2022, 5, 16, tzinfo=UTC)
    obs = mempool.parse_hashrate(load("hashrate_3d_docs.json"), fetched)
    assert [o.observed_at.day for o in obs if o.id == "mining.hashrate"] == [14, 15, 16]
    now = next(o for o in obs if o.observed_at == fetched)
    assert now.value == pytest.approx(252.0332473552)


def test_signet_hashrate_is_refused_as_not_mainnet() -> None:
    with pytest.raises(ParseError, match=r"currentHashrate: 23491 outside 1e\+15\.\.1e\+24"):
        mempool.parse_hashrate(load("hashrate_3d_signet_docs.json"), FETCHED)


def test_zero_hashrate_says_the_node_is_missing() -> None:
    # mining-routes.ts answers 0 when Bitcoin Core does not answer: never a zero reading.
    doc = with_field(load("hashrate_3d_docs.json"), "currentHashrate", 0)
    with pytest.raises(ParseError, match="currentHashrate is 0"):
        mempool.parse_hashrate(doc, FETCHED)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("hashrates", {}, "expected a list at 'hashrates'"),
        ("hashrates", [{"timestamp": 1652486400}], "missing 'hashrates\\[0\\].avgHashrate'"),
        ("currentDifficulty", 55580658.55098472, "currentDifficulty: .* outside"),
        ("currentDifficulty", None, "currentDifficulty: expected a number, got null"),
    ],
)
def test_bad_hashrate_fields(key: str, value: Json, message: str) -> None:
    doc = with_field(load("hashrate_3d_docs.json"), key, value)
    with pytest.raises(ParseError, match=message):
        mempool.parse_hashrate(doc, FETCHED)


# --- reward stats --------------------------------------------------------------------------


def test_reward_per_block_over_the_blocks_summed() -> None:
    # Docs example is reward-stats/100: 63,811,748,254 sats over blocks 736556..736655.
    (obs,) = mempool.parse_rewards(load("reward_stats_100_docs.json"), FETCHED)
    assert (obs.id, obs.unit, obs.source, obs.observed_at) == (
        "mining.reward_144",
        "BTC",
        "mempool",
        FETCHED,
    )
    assert obs.value == pytest.approx(6.3811748254)


def test_implausible_reward_per_block() -> None:
    doc = with_field(load("reward_stats_100_docs.json"), "totalFee", "0")
    with pytest.raises(ParseError, match=r"reward per block 1\.2e-09 BTC is implausible"):
        mempool.parse_rewards(with_field(doc, "totalReward", "12"), FETCHED)


def test_reward_of_144_blocks() -> None:
    doc = load("reward_stats_100_docs.json")
    doc = with_field(with_field(doc, "startBlock", 736512), "totalReward", "45504000000")
    (obs,) = mempool.parse_rewards(doc, FETCHED)
    assert obs.value == pytest.approx(45_504_000_000 / 144 / 1e8)  # 3.16 BTC


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("startBlock", None, "startBlock: expected a number, got null"),
        ("startBlock", 736656, "do not make a block range"),
        ("totalReward", "1311748253", "totalFee is larger than totalReward"),
        ("totalFee", "-1", "totalFee: -1 outside"),
        ("totalReward", "0x10", "totalReward: expected a number"),
    ],
)
def test_bad_reward_fields(key: str, value: Json, message: str) -> None:
    doc = with_field(load("reward_stats_100_docs.json"), key, value)
    with pytest.raises(ParseError, match=message):
        mempool.parse_rewards(doc, FETCHED)


@pytest.mark.parametrize("parse", [mempool.parse_difficulty, mempool.parse_hashrate])
def test_non_object_bodies(parse: Parser) -> None:
    bodies: list[Json] = [[], "Failed to get reward stats", None]
    for bad in bodies:
        with pytest.raises(ParseError, match="expected an object at the top level"):
            parse(bad, FETCHED)


def test_spec_urls_and_cadence() -> None:
    spec = mempool.SPEC
    assert (spec.name, spec.bucket, spec.needs_key) == ("mempool", "mining", False)
    assert [ep.url(spec.base_url) for ep in spec.endpoints] == [
        "https://mempool.space/api/v1/difficulty-adjustment",
        "https://mempool.space/api/v1/mining/hashrate/1m",
        "https://mempool.space/api/v1/mining/reward-stats/144",
    ]
    assert [ep.key for ep in spec.endpoints] == ["difficulty", "hashrate", "rewards"]
    assert spec.interval_s == 300.0
    assert all(ep.interval_s is None for ep in spec.endpoints)
    # A self-hosted node: the base URL carries the path prefix.
    assert spec.endpoints[2].url("http://node.local:8999/api/") == (
        "http://node.local:8999/api/v1/mining/reward-stats/144"
    )


# --- any body: observations or a FetchError --------------------------------------------------

REAL: dict[Parser, tuple[str, ...]] = {
    mempool.parse_difficulty: (
        "difficulty_adjustment_docs.json",
        "difficulty_adjustment_ws_mainnet.json",
        "difficulty_adjustment_ws_liquid.json",
    ),
    mempool.parse_hashrate: ("hashrate_3d_docs.json", "hashrate_3d_signet_docs.json"),
    mempool.parse_rewards: ("reward_stats_100_docs.json",),
}
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["nan", "1e400", "0", "45504000000", 1627762478, 1735514828279, 10**30])
)
JSON = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)


def mutated(seed: Json, key: str, value: Json) -> Json:
    if isinstance(seed, dict):
        return with_field(seed, key if key else next(iter(seed)), value)
    return value


@pytest.mark.parametrize("parse", list(REAL))
@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_any_body_gives_observations_or_a_fetch_error(parse: Parser, data: st.DataObject) -> None:
    seeds = [load(n) for n in REAL[parse]]
    seed = data.draw(st.sampled_from(seeds))
    keys = sorted(seed) if isinstance(seed, dict) else [""]
    doc = cast(
        Json,
        data.draw(st.one_of(JSON, st.builds(mutated, st.just(seed), st.sampled_from(keys), JSON))),
    )
    try:
        out = parse(doc, FETCHED)
    except FetchError:
        return
    assert all(isinstance(o, Observation) and math.isfinite(o.value) for o in out)

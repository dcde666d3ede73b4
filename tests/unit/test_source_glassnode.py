"""Glassnode parser on Glassnode's documented bodies (tests/data/glassnode) and the key plumbing."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import body
from tui.core.errors import FetchError, ParseError, RateLimitedError
from tui.core.model import Json, Observation
from tui.core.redact import REDACTED, redact_headers, redact_url
from tui.core.sources import glassnode

FETCHED = datetime(2026, 2, 6, 9, 30, tzinfo=UTC)
FIRST = datetime(2026, 1, 27, tzinfo=UTC)
#: Realized loss a day, 27 Jan .. 5 Feb 2026, in US$bn (test values: no real series is public).
LOSSES = [0.8, 0.9, 0.7, 1.1, 1.2, 1.0, 1.3, 1.5, 1.6, 1.4]


def load(name: str) -> Json:
    parsed: Json = json.loads(body("glassnode", name))
    return parsed


def series(values: list[float], first: datetime = FIRST) -> Json:
    """Points in the documented ``[{"t": unix s, "v": number}]`` form, one a day."""
    return [
        {"t": int((first + timedelta(days=i)).timestamp()), "v": v * 1e9}
        for i, v in enumerate(values)
    ]


def test_seven_day_means_observed_at_the_last_days_end() -> None:
    obs = glassnode.parse_realized_loss(series(LOSSES), FETCHED)
    assert [(o.observed_at.date().isoformat(), round(o.value / 1e9, 6)) for o in obs] == [
        ("2026-02-03", round(7.0 / 7, 6)),  # 27 Jan .. 2 Feb: 0.8+0.9+0.7+1.1+1.2+1.0+1.3
        ("2026-02-04", round(7.7 / 7, 6)),
        ("2026-02-05", round(8.4 / 7, 6)),
        ("2026-02-06", 1.3),  # 30 Jan .. 5 Feb: 9.1 / 7
    ]
    assert {(o.id, o.unit, o.source) for o in obs} == {
        ("onchain.realized_loss.7d", "USD/day", "glassnode")
    }


def test_latest_point_is_never_after_the_fetch() -> None:
    fetched = datetime(2026, 2, 5, 22, 0, tzinfo=UTC)
    obs = glassnode.parse_realized_loss(series(LOSSES), fetched)
    assert obs[-1].observed_at == fetched


def test_a_missing_day_breaks_the_window() -> None:
    points = series(LOSSES)
    assert isinstance(points, list)
    del points[5]  # 1 Feb missing
    with pytest.raises(ParseError, match="needs 7 consecutive daily values, got 9 days"):
        glassnode.parse_realized_loss(points, FETCHED)


@pytest.mark.parametrize(
    ("name", "got"),
    [
        ("indicators_cdd90_age_adjusted_docs.json", "2 days"),
        ("entities_active_count_docs.json", "1 day"),
    ],
)
def test_documented_answers_are_too_short_for_a_week(name: str, got: str) -> None:
    # The docs' example answers (CDD-90, active entities): one or two daily points.
    with pytest.raises(ParseError, match=f"needs 7 consecutive daily values, got {got}$"):
        glassnode.parse_realized_loss(load(name), FETCHED)


def test_docs_points_are_read_as_daily_values() -> None:
    # The documented points, extended to a week by repeating the last one (shape unchanged).
    doc = load("indicators_cdd90_age_adjusted_docs.json")
    assert isinstance(doc, list)
    assert isinstance(doc[1], dict)
    last_t = doc[1]["t"]
    assert isinstance(last_t, int)
    doc += [{"t": last_t + 86_400 * k, "v": doc[1]["v"]} for k in range(1, 6)]
    (obs,) = glassnode.parse_realized_loss(doc, FETCHED)
    assert obs.value == pytest.approx((110600.96957325003 + 6 * 110817.65751791658) / 7)
    assert obs.observed_at == datetime(2023, 3, 9, tzinfo=UTC)  # last day 8 Mar 2023, at its end


def test_order_and_sign_do_not_matter() -> None:
    flipped = series([-v for v in LOSSES])
    assert isinstance(flipped, list)
    flipped.reverse()
    expected = glassnode.parse_realized_loss(series(LOSSES), FETCHED)
    assert glassnode.parse_realized_loss(flipped, FETCHED) == expected


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        ({"error": "unauthorized"}, ParseError, "^Glassnode: unauthorized$"),
        ({"error": "rate limit exceeded"}, RateLimitedError, "rate limit"),
        ({}, ParseError, "expected a list of {t, v} points, got dict"),
        ("<html>", ParseError, "got str"),
        ([{"t": 1677715200}], ParseError, "missing '\\[0\\].v'"),
        ([{"t": 1677715200, "v": None}], ParseError, "\\[0\\].v: expected a number, got null"),
        ([{"t": 1677715200, "v": "nan"}], ParseError, "\\[0\\].v: expected a number"),
        ([{"t": 1677715200, "v": 1e13}], ParseError, "\\[0\\].v: .* outside"),
        ([{"t": 1677718800, "v": 1.0}], ParseError, "not a daily point"),
        (
            [{"t": 1677715200, "v": 1.0}, {"t": 1677715200, "v": 2.0}],
            ParseError,
            "two different values for 2023-03-02",
        ),
    ],
)
def test_bad_bodies(bad: Json, error: type[FetchError], message: str) -> None:
    with pytest.raises(error, match=message):
        glassnode.parse_realized_loss(bad, FETCHED)


def test_the_key_travels_in_a_header_that_recordings_redact() -> None:
    spec = glassnode.SPEC
    assert (spec.name, spec.bucket, spec.needs_key, spec.interval_s) == (
        "glassnode",
        "onchain",
        True,
        12 * 3600.0,
    )
    (ep,) = spec.endpoints
    url = ep.url(spec.base_url)
    assert url == "https://api.glassnode.com/v1/metrics/indicators/realized_loss?a=BTC&i=24h"
    assert "api_key" not in url
    headers = glassnode.key_headers("s3cr3t-key")
    assert headers == {"X-Api-Key": "s3cr3t-key"}
    assert redact_headers(headers) == {"X-Api-Key": REDACTED}
    # Should a key ever go in the query instead, it is redacted there too.
    assert "s3cr3t" not in redact_url(url + "&api_key=s3cr3t-key")


LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from([1677715200, 1677801600, 1677718800, "1e400", "nan", 1.3e9, -1.0])
)
JSON = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=8) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=10,
)


def edited(index: int, key: str, value: Json) -> Json:
    points = series(LOSSES)
    assert isinstance(points, list)
    point = points[index % len(points)]
    assert isinstance(point, dict)
    point[key] = value
    return points


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    doc=st.one_of(JSON, st.builds(edited, st.integers(0, 20), st.sampled_from(["t", "v"]), JSON))
)
def test_any_body_gives_observations_or_a_fetch_error(doc: Json) -> None:
    try:
        out = glassnode.parse_realized_loss(doc, FETCHED)
    except FetchError:
        return
    assert out
    assert all(isinstance(o, Observation) and math.isfinite(o.value) for o in out)

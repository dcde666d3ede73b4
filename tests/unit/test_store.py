"""The SQLite history store: round trips, migrations, retention, locking, damage and crashes."""

from __future__ import annotations

import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tui.core.model import Exchange, Observation, SourceStatus, Status
from tui.core.store import Retention, RetentionReport, Store, _migrate

T0 = datetime(2026, 2, 5, tzinfo=UTC)
CHILD = Path(__file__).with_name("store_writer_child.py")


def obs(value: float, at: datetime, id_: str = "btc.price.kraken", source: str = "kraken"):
    return Observation(id=id_, value=value, unit="USD", source=source, observed_at=at)


def rows(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Look at the file directly, as another program would."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


@pytest.fixture
def store(db: Path):
    s = Store.open(db)
    yield s
    s.close()


# --- opening ----------------------------------------------------------------------------------


def test_open_creates_the_missing_folder_and_a_wal_database(db: Path, store: Store) -> None:
    assert db.is_file()
    assert store.path == str(db)
    assert (store.read_only, store.in_memory, store.notice) == (False, False, None)
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]
    assert rows(db, "SELECT version FROM schema_version") == [(len(Store.MIGRATIONS),)]
    tables = {name for (name,) in rows(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"readings", "status_changes", "exchanges", "schema_version"} <= tables
    assert int(db.with_name(db.name + ".lock").read_text()) == os.getpid()


def test_none_path_is_an_in_memory_store() -> None:
    with Store.open(None) as s:
        assert (s.path, s.in_memory, s.read_only, s.notice) == (":memory:", True, False, None)
        assert s.write([obs(1.0, T0)]) == 1
        assert s.latest() == [obs(1.0, T0)]


def test_close_releases_the_writer_lock(db: Path) -> None:
    s = Store.open(db)
    assert not lock_is_free(db)
    s.close()
    assert lock_is_free(db)
    s.close()  # twice is harmless
    with Store.open(db) as again:
        assert not again.read_only


# --- readings ---------------------------------------------------------------------------------


def test_observations_round_trip_exactly_as_aware_utc(store: Store) -> None:
    plus2 = timezone(timedelta(hours=2))
    written = [
        obs(70123.456789, T0 + timedelta(milliseconds=1)),
        obs(0.1 + 0.2, datetime(2026, 2, 5, 3, 0, 0, 999000, tzinfo=plus2)),
        obs(-5e300, T0 + timedelta(days=1)),
        obs(1e-300, T0, id_="funding.binance", source="binance"),
    ]
    assert store.write(written) == 4
    back = store.series("btc.price.kraken", "kraken")
    expected = sorted((o.observed_at, o.value) for o in written if o.source == "kraken")
    assert back == expected
    assert all(at.tzinfo is UTC for at, _ in back)
    assert store.series("funding.binance", "binance") == [(T0, 1e-300)]


def test_sub_millisecond_parts_are_dropped(store: Store) -> None:
    store.write([obs(1.0, T0 + timedelta(microseconds=123_456))])
    assert store.series("btc.price.kraken", "kraken") == [
        (T0 + timedelta(microseconds=123_000), 1.0)
    ]


def test_write_upserts_on_id_source_and_time(db: Path, store: Store) -> None:
    batch = [obs(float(i), T0 + timedelta(seconds=i)) for i in range(5)]
    store.write(batch)
    store.write(batch)
    assert rows(db, "SELECT COUNT(*) FROM readings") == [(5,)]
    assert store.write([obs(99.0, T0 + timedelta(seconds=2))]) == 1
    values = [v for _, v in store.series("btc.price.kraken", "kraken")]
    assert values == [0.0, 1.0, 99.0, 3.0, 4.0]


def test_write_of_10k_rows_is_fast(db: Path, store: Store) -> None:
    batch = [obs(float(i), T0 + timedelta(seconds=i)) for i in range(10_000)]
    started = time.perf_counter()
    assert store.write(batch) == 10_000
    assert time.perf_counter() - started < 1.0
    assert rows(db, "SELECT COUNT(*) FROM readings") == [(10_000,)]


def test_latest_is_the_newest_row_per_id_and_source(store: Store) -> None:
    store.write(
        [
            obs(3.0, T0 + timedelta(minutes=3)),
            obs(1.0, T0 + timedelta(minutes=1)),
            obs(9.0, T0 + timedelta(minutes=2)),
            obs(5.0, T0, source="bitstamp"),
            obs(6.0, T0 - timedelta(days=1), id_="a.first", source="z"),
            obs(7.0, T0 + timedelta(days=1), id_="a.first", source="a"),
        ]
    )
    assert store.latest() == [
        obs(7.0, T0 + timedelta(days=1), id_="a.first", source="a"),
        obs(6.0, T0 - timedelta(days=1), id_="a.first", source="z"),
        obs(5.0, T0, source="bitstamp"),
        obs(3.0, T0 + timedelta(minutes=3)),
    ]
    assert Store.open(None).latest() == []


def test_series_range_is_inclusive_and_oldest_first(store: Store) -> None:
    store.write([obs(float(i), T0 + timedelta(minutes=i)) for i in reversed(range(10))])
    store.write([obs(100.0, T0 + timedelta(minutes=4), source="bitstamp")])
    got = store.series(
        "btc.price.kraken", "kraken", T0 + timedelta(minutes=3), T0 + timedelta(minutes=5)
    )
    assert got == [(T0 + timedelta(minutes=m), float(m)) for m in (3, 4, 5)]
    assert [
        v for _, v in store.series("btc.price.kraken", "kraken", since=T0 + timedelta(minutes=8))
    ] == [8.0, 9.0]
    assert [
        v for _, v in store.series("btc.price.kraken", "kraken", until=T0 + timedelta(minutes=1))
    ] == [0.0, 1.0]
    assert store.series("btc.price.kraken", "nobody") == []


def test_the_store_can_be_used_from_another_thread(store: Store) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            store.write([obs(1.0, T0)])
        except BaseException as e:
            errors.append(e)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert errors == []
    assert store.latest() == [obs(1.0, T0)]


# --- statuses and exchanges --------------------------------------------------------------------


def status(
    name: str, st: Status, detail: str = "", minutes: int = 0, **kw: datetime
) -> SourceStatus:
    return SourceStatus(name, st, detail, last_attempt_at=T0 + timedelta(minutes=minutes), **kw)


def test_record_status_stores_only_changes(store: Store) -> None:
    until = T0 + timedelta(minutes=30)
    assert store.record_status(status("kraken", Status.OK, minutes=0, last_ok_at=T0))
    assert not store.record_status(status("kraken", Status.OK, minutes=1, last_ok_at=T0))
    limited = status(
        "kraken", Status.RATE_LIMITED, "rate-limited until 00:30 UTC", 2, until=until, last_ok_at=T0
    )
    assert store.record_status(limited)
    assert not store.record_status(limited)
    # A changed detail is a change.
    assert store.record_status(status("kraken", Status.RATE_LIMITED, "HTTP 429", 3))
    assert store.record_status(status("bybit", Status.OK, minutes=3))  # sources are independent
    assert store.record_status(status("kraken", Status.OK, minutes=4))  # back to ok is a change

    history = store.status_history("kraken")
    assert [(s.status, s.detail) for s in history] == [
        (Status.OK, ""),
        (Status.RATE_LIMITED, "HTTP 429"),
        (Status.RATE_LIMITED, "rate-limited until 00:30 UTC"),
        (Status.OK, ""),
    ]
    assert history[2] == limited
    newest_two = store.status_history("kraken", limit=2)
    assert [s.status for s in newest_two] == [Status.OK, Status.RATE_LIMITED]
    last = store.last_statuses()
    assert set(last) == {"kraken", "bybit"}
    assert last["kraken"] == status("kraken", Status.OK, minutes=4)
    assert last["bybit"].last_attempt_at == T0 + timedelta(minutes=3)


def test_record_status_dedupes_against_what_is_in_the_file(db: Path) -> None:
    with Store.open(db) as s:
        s.record_status(status("kraken", Status.TIMEOUT, "read timeout"))
    with Store.open(db) as s:
        assert not s.record_status(status("kraken", Status.TIMEOUT, "read timeout", 5))
        assert s.last_statuses()["kraken"].status is Status.TIMEOUT


def exchange(body: bytes, minutes: int = 0, latency: float | None = 12.5) -> Exchange:
    headers = {"content-type": "application/json", "retry-after": "30"}
    return Exchange(
        "GET",
        "https://api.kraken.com/0/public/Ticker?pair=XBTUSD",
        200,
        headers,
        body,
        T0 + timedelta(minutes=minutes),
        latency,
    )


def test_exchanges_keep_only_the_latest_per_endpoint(store: Store) -> None:
    assert store.latest_exchange("kraken", "ticker") is None
    store.save_exchange("kraken", "ticker", exchange(b'{"result": 1}', 0))
    newer = exchange(b'\x00{"result": 2}\xff', 1, latency=None)
    store.save_exchange("kraken", "ticker", newer)
    store.save_exchange("kraken", "ohlc", exchange(b"[]", 2))
    assert store.latest_exchange("kraken", "ticker") == newer
    assert store.latest_exchange("kraken", "ohlc") == exchange(b"[]", 2)
    assert store.latest_exchange("bybit", "ticker") is None


# --- migrations -------------------------------------------------------------------------------


V2 = """
ALTER TABLE readings ADD COLUMN note TEXT;
CREATE TABLE annotations (at INTEGER NOT NULL, text TEXT NOT NULL);
"""


class V2Store(Store):
    MIGRATIONS = (*Store.MIGRATIONS, V2)


class BrokenV2Store(Store):
    # Fails on a file holding two equal values, as a real migration can fail on real data; a fresh
    # (in-memory) database takes it.
    MIGRATIONS = (
        *Store.MIGRATIONS,
        "CREATE TABLE half_done (x); CREATE UNIQUE INDEX one_per_value ON readings (value);",
    )


def tables(db: Path) -> set[object]:
    return {n for (n,) in rows(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_v1_file_is_migrated_to_an_added_v2(db: Path) -> None:
    with Store.open(db) as s:
        s.write([obs(1.0, T0)])
    assert rows(db, "SELECT version FROM schema_version") == [(len(Store.MIGRATIONS),)]
    with V2Store.open(db) as s:
        assert (s.read_only, s.notice) == (False, None)
        assert s.latest() == [obs(1.0, T0)]
    assert rows(db, "SELECT version FROM schema_version") == [(len(V2Store.MIGRATIONS),)]
    assert "annotations" in tables(db)
    assert ("note",) in rows(db, "SELECT name FROM pragma_table_info('readings')")


def test_a_failing_migration_changes_nothing(db: Path) -> None:
    with Store.open(db) as s:
        s.write([obs(1.0, T0), obs(1.0, T0 + DAY)])
    with BrokenV2Store.open(db) as s:
        assert s.in_memory
        assert s.notice is not None
        assert s.notice.startswith(f"history file {db} cannot be opened (UNIQUE constraint failed")
    assert rows(db, "SELECT version FROM schema_version") == [(len(Store.MIGRATIONS),)]
    assert "half_done" not in tables(db)
    with Store.open(db) as s:
        assert s.latest() == [obs(1.0, T0 + DAY)]


def test_a_newer_schema_opens_read_only_with_a_notice(db: Path) -> None:
    with V2Store.open(db) as s:
        s.write([obs(1.0, T0)])
    with Store.open(db) as s:
        assert (s.read_only, s.in_memory) == (True, False)
        assert s.notice is not None
        known = len(Store.MIGRATIONS)
        assert (
            f"is from a newer btcwatch (schema v{known + 1}, this one knows v{known})" in s.notice
        )
        assert s.write([obs(2.0, T0 + timedelta(seconds=1))]) == 0
        assert not s.record_status(status("kraken", Status.OK))
        assert s.latest() == [obs(1.0, T0)]
        # It does not hold the writer lock: the newer btcwatch may write meanwhile.
        with V2Store.open(db) as newer:
            assert not newer.read_only
            newer.write([obs(3.0, T0 + timedelta(seconds=2))])
        assert s.latest() == [obs(3.0, T0 + timedelta(seconds=2))]
    assert rows(db, "SELECT version FROM schema_version") == [(len(V2Store.MIGRATIONS),)]


# --- retention --------------------------------------------------------------------------------

SHORT = Retention(raw_days=1.0, minute_after_days=1.0, hour_after_days=3.0)
DAY = timedelta(days=1)


def every(step_s: int, days: int, **kw: str) -> list[Observation]:
    """One reading per ``step_s`` seconds over ``days`` days from T0, valued by its index."""
    return [
        obs(float(i), T0 + timedelta(seconds=step_s * i), **kw)
        for i in range(days * 86400 // step_s)
    ]


def test_retention_keeps_raw_then_last_per_minute_then_last_per_hour(db: Path) -> None:
    now = T0 + 4 * DAY  # band limits fall on whole minutes and hours: now - 1 d and now - 3 d
    with Store.open(db, SHORT) as s:
        s.write(every(10, 4))
        s.write(every(25, 4, source="bitstamp"))
        report = s.apply_retention(now)

    def band(source: str, resolution: int) -> tuple[list[int], list[float]]:
        """(seconds after T0, value) of the rows kept at ``resolution``."""
        found = rows(
            db,
            "SELECT observed_at, value FROM readings"
            " WHERE source = ? AND resolution = ? ORDER BY observed_at",
            (source, resolution),
        )
        t0_ms = int(T0.timestamp()) * 1000
        return [(int(at) - t0_ms) // 1000 for at, _ in found], [float(v) for _, v in found]

    # kraken, every 10 s: day 3 raw, days 1-2 the last of each minute, day 0 the last of each hour.
    raw_s, raw_v = band("kraken", 0)
    minute_s, minute_v = band("kraken", 60)
    hour_s, hour_v = band("kraken", 3600)
    assert raw_s == list(range(3 * 86400, 4 * 86400, 10))
    assert minute_s == [m * 60 + 50 for m in range(1440, 3 * 1440)]
    assert hour_s == [h * 3600 + 3590 for h in range(24)]
    # Each survivor kept its own value (value i was written at 10*i s).
    assert [v * 10 for v in raw_v + minute_v + hour_v] == raw_s + minute_s + hour_s

    # bitstamp, every 25 s: its own buckets, whatever kraken had.
    times = range(0, 4 * 86400, 25)
    newest: dict[int, int] = {}
    for t in times:
        if t < 3 * 86400:
            newest[t // 3600 * 3600 if t < 86400 else t // 60 * 60] = t
    assert band("bitstamp", 3600)[0] == sorted(t for t in newest.values() if t < 86400)
    assert band("bitstamp", 60)[0] == sorted(t for t in newest.values() if t >= 86400)
    assert band("bitstamp", 0)[0] == [t for t in times if t >= 3 * 86400]

    # Day 0: 8640 and 3456 rows down to 24 each; days 1-2: 17280 and 6912 rows down to 2880 each
    # (every minute holds two or three bitstamp readings).
    assert report.hour_rows_removed == (8640 - 24) + (3456 - 24)
    assert report.minute_rows_removed == (17280 - 2880) + (6912 - 2880)
    with Store.open(db, SHORT) as s:
        assert s.apply_retention(now) == RetentionReport(0, 0, 0)  # idempotent
        latest = {o.source: o.value for o in s.latest()}
    assert latest == {"kraken": 4 * 8640 - 1, "bitstamp": 4 * 3456 - 1}


def test_retention_run_often_ends_where_one_late_run_does(tmp_path: Path) -> None:
    # Bands of 6 h and 12 h over one day of data; runs at uneven times move both limits along.
    retention = Retention(raw_days=1.0, minute_after_days=0.25, hour_after_days=0.5)
    data = every(10, 1) + every(25, 1, source="bitstamp")
    steps = [T0 + timedelta(hours=12 + h, seconds=17 * h) for h in range(0, 13, 2)]
    often = Store.open(tmp_path / "often.sqlite3", retention)
    once = Store.open(tmp_path / "once.sqlite3", retention)
    for s in (often, once):
        s.write(data)
    reports = [often.apply_retention(now) for now in steps] + [once.apply_retention(steps[-1])]
    removed = [r.minute_rows_removed + r.hour_rows_removed for r in reports]
    assert sum(removed[:-1]) == removed[-1] > 0
    often.close()
    once.close()
    query = "SELECT id, source, observed_at, value, resolution FROM readings ORDER BY 1, 2, 3"
    kept = rows(tmp_path / "often.sqlite3", query)
    assert kept == rows(tmp_path / "once.sqlite3", query)
    assert {r[4] for r in kept} == {0, 60, 3600}


def test_retention_keeps_the_newest_row_when_a_late_write_lands_in_a_done_bucket(
    store: Store,
) -> None:
    now = T0 + 30 * DAY
    minute = T0 + 10 * DAY  # in the per-minute band
    store.write(
        [obs(1.0, minute + timedelta(seconds=20)), obs(2.0, minute + timedelta(seconds=40))]
    )
    assert store.apply_retention(now).minute_rows_removed == 1
    store.write([obs(3.0, minute + timedelta(seconds=50)), obs(0.5, minute + timedelta(seconds=5))])
    assert store.apply_retention(now).minute_rows_removed == 2
    assert store.series("btc.price.kraken", "kraken") == [(minute + timedelta(seconds=50), 3.0)]


def test_retention_drops_raw_answers_older_than_raw_days(store: Store) -> None:
    store.save_exchange("kraken", "ticker", exchange(b"old", 0))
    store.save_exchange("kraken", "ohlc", exchange(b"new", 60 * 24 * 7 - 1))
    report = store.apply_retention(T0 + timedelta(days=7, minutes=1))
    assert report == RetentionReport(raw_deleted=1, minute_rows_removed=0, hour_rows_removed=0)
    assert store.latest_exchange("kraken", "ticker") is None
    assert store.latest_exchange("kraken", "ohlc") is not None


# --- damaged, unwritable, locked ---------------------------------------------------------------


def lock_is_free(db: Path) -> bool:
    fd = os.open(f"{db}.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def garbage(db: Path) -> bytes:
    return bytes(range(256)) * 64


def torn(db: Path) -> bytes:
    with Store.open(db) as s:
        s.write([obs(float(i), T0 + timedelta(seconds=i)) for i in range(5000)])
    for suffix in ("-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    content = bytearray(db.read_bytes())
    page = 4096
    content[page * 2 : page * 4] = b"\xa5" * (page * 2)  # overwrite b-tree pages, keep the header
    return bytes(content)


@pytest.mark.parametrize("damage", [garbage, torn])
def test_a_damaged_file_is_left_alone_and_memory_is_used(db: Path, damage) -> None:
    content = damage(db)
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(content)
    with Store.open(db) as s:
        assert (s.in_memory, s.read_only) == (True, False)
        assert s.notice is not None
        assert f"history file {db} is damaged (" in s.notice
        assert "move it aside" in s.notice
        assert "\n" not in s.notice
        assert s.write([obs(1.0, T0)]) == 1
        assert s.latest() == [obs(1.0, T0)]
        assert lock_is_free(db)  # a store in memory keeps no lock on the file it could not use
    assert db.read_bytes() == content


def test_an_uncreatable_data_folder_means_memory_and_a_notice(tmp_path: Path) -> None:
    # We run as root, so a read-only folder would still be written: a path under a file cannot be.
    (tmp_path / "not-a-dir").write_text("x")
    path = tmp_path / "not-a-dir" / "btcwatch" / "history.sqlite3"
    with Store.open(path) as s:
        assert (s.in_memory, s.read_only) == (True, False)
        assert s.notice is not None
        assert str(path) in s.notice
        assert s.write([obs(1.0, T0)]) == 1


def test_a_read_only_data_folder_means_memory_and_a_notice(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):  # root writes whatever the mode says
            pytest.skip("this user writes into read-only folders (root)")
        with Store.open(folder / "history.sqlite3") as s:
            assert s.in_memory
            assert s.notice is not None
            assert str(folder / "history.sqlite3") in s.notice
    finally:
        folder.chmod(0o700)


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_a_store_written_by_another_process_opens_read_only(db: Path) -> None:
    child = spawn("hold", str(db))
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
        with Store.open(db) as s:
            assert (s.read_only, s.in_memory) == (True, False)
            assert s.notice == (
                f"history is being written by another btcwatch (pid {child.pid});"
                " this one reads only"
            )
            assert s.write([obs(1.0, T0 + DAY)]) == 0
            assert not s.record_status(status("kraken", Status.OK))
            assert s.apply_retention(T0 + 1000 * DAY) == RetentionReport(0, 0, 0)
            [latest] = s.latest()
            assert (latest.id, latest.source, latest.value) == ("test.batch", "child", 0.0)
            assert len(s.series("test.batch", "child")) == 10
    finally:
        child.communicate("", timeout=10)
    assert child.returncode == 0
    with Store.open(db) as s:  # the child closed: this one writes now
        assert not s.read_only


def test_readers_see_committed_rows_while_a_writer_is_mid_transaction(
    db: Path, store: Store
) -> None:
    store.write([obs(1.0, T0)])
    writer = sqlite3.connect(db, isolation_level=None, timeout=0)
    try:
        # A tiny page cache makes the writer spill to disk mid-transaction: with a rollback journal
        # that takes an exclusive lock that shuts readers out; with WAL readers go on.
        writer.execute("PRAGMA cache_size = 5")
        writer.execute("BEGIN IMMEDIATE")
        writer.executemany(
            "INSERT INTO readings (id, source, observed_at, value, unit) VALUES (?, ?, ?, ?, ?)",
            [("btc.price.kraken", "kraken", i, 2.0, "USD") for i in range(5000)],
        )
        with Store.open(db) as reader:
            assert reader.read_only
            started = time.perf_counter()
            assert reader.latest() == [obs(1.0, T0)]
            assert store.latest() == [obs(1.0, T0)]
            assert time.perf_counter() - started < 1.0  # nobody waited for the writer
            writer.execute("COMMIT")
            assert len(reader.series("btc.price.kraken", "kraken")) == 5001
    finally:
        writer.close()


def test_batches_reported_committed_survive_sigkill(db: Path) -> None:
    size = 200
    child = spawn("write", str(db), str(size))
    assert child.stdout is not None
    reported: list[int] = []
    try:
        while len(reported) < 40:
            line = child.stdout.readline()
            assert line.strip().isdigit(), f"child said {line!r}"
            reported.append(int(line))
    finally:
        child.send_signal(signal.SIGKILL)
        rest, _ = child.communicate(timeout=10)
    reported += [int(line) for line in rest.splitlines() if line.strip().isdigit()]
    assert child.returncode == -signal.SIGKILL

    with Store.open(db) as s:
        assert (s.in_memory, s.read_only, s.notice) == (False, False, None)  # sound, and unlocked
        per_batch = Counter(v for _, v in s.series("test.batch", "child"))
    assert all(per_batch[float(n)] == size for n in reported)  # nothing committed was lost
    assert set(per_batch.values()) == {size}  # and no batch is there in part
    assert max(per_batch) <= max(reported) + 1


# --- backfill ---------------------------------------------------------------------------------


def test_a_v1_file_gains_the_backfill_column_and_keeps_its_rows(db: Path) -> None:
    db.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db, isolation_level=None)
    _migrate(conn, Store.MIGRATIONS[:1])  # a file written by a version-1 btcwatch
    conn.execute(
        "INSERT INTO readings (id, source, observed_at, value, unit) VALUES (?, ?, ?, ?, ?)",
        ("btc.price.kraken", "kraken", int(T0.timestamp() * 1000), 1.0, "USD"),
    )
    conn.close()
    with Store.open(db) as s:
        assert s.latest() == [obs(1.0, T0)]
        assert s.first_live("btc.price.kraken", "kraken") == T0
        assert s.backfilled_count("btc.price.kraken", "kraken") == 0
    assert rows(db, "SELECT backfilled FROM readings") == [(0,)]


def test_backfill_never_overwrites_and_a_repeat_adds_nothing(store: Store) -> None:
    store.write([obs(1.0, T0)])
    loaded = [obs(9.0, T0), obs(2.0, T0 - DAY), obs(3.0, T0 - 2 * DAY)]
    assert store.write_backfill(loaded) == 2
    assert store.write_backfill(loaded) == 0
    assert [v for _, v in store.series("btc.price.kraken", "kraken")] == [3.0, 2.0, 1.0]
    assert store.backfilled_count("btc.price.kraken", "kraken") == 2
    assert store.first_live("btc.price.kraken", "kraken") == T0


def test_a_live_reading_of_a_backfilled_moment_clears_the_mark(store: Store) -> None:
    store.write_backfill([obs(2.0, T0)])
    assert store.first_live("btc.price.kraken", "kraken") is None
    store.write([obs(2.5, T0)])
    assert store.backfilled_count("btc.price.kraken", "kraken") == 0
    assert store.first_live("btc.price.kraken", "kraken") == T0
    assert store.series("btc.price.kraken", "kraken") == [(T0, 2.5)]


def test_backfill_marks_persist_and_a_reader_keeps_none(db: Path) -> None:
    with Store.open(db) as s:
        assert s.backfill_mark("coinbase/candles") is None
        s.set_backfill_mark("coinbase/candles", "2025-11-25", T0)
        s.set_backfill_mark("coinbase/candles", "2025-06-01", T0)
    with Store.open(db) as s:
        assert s.backfill_mark("coinbase/candles") == "2025-06-01"
        with Store.open(db) as reader:
            assert reader.read_only
            reader.set_backfill_mark("coinbase/candles", "x", T0)
            assert reader.write_backfill([obs(1.0, T0)]) == 0
            assert reader.backfill_mark("coinbase/candles") == "2025-06-01"


def test_sampled_is_the_whole_series_or_the_last_row_of_each_slice(store: Store) -> None:
    minute = timedelta(minutes=1)
    store.write([obs(float(i), T0 + i * minute) for i in range(1000)])
    until = T0 + 999 * minute
    assert store.sampled("btc.price.kraken", "kraken", T0, until, 1000) == store.series(
        "btc.price.kraken", "kraken", T0, until
    )
    points = store.sampled("btc.price.kraken", "kraken", T0, until, 10)
    # Ten slices of 99.9 minutes: the last row of each, the series' last row last.
    assert [v for _, v in points] == [
        99.0,
        199.0,
        299.0,
        399.0,
        499.0,
        599.0,
        699.0,
        799.0,
        899.0,
        999.0,
    ]
    # A gap leaves its slices empty: no point is repeated, none invented.
    store.write([obs(5000.0, until + 600 * minute)])
    tail = store.sampled("btc.price.kraken", "kraken", until, until + 600 * minute, 6)
    assert [v for _, v in tail] == [999.0, 5000.0]


def test_sampled_slices_the_time_the_series_covers_not_the_whole_range(store: Store) -> None:
    minute = timedelta(minutes=1)
    store.write([obs(float(i), T0 + i * minute) for i in range(60)])
    points = store.sampled("btc.price.kraken", "kraken", T0 - DAY, T0 + 59 * minute, 6)
    assert len(points) == 6
    assert points[-1][1] == 59.0


def test_midnights_are_a_daily_series_completed_days_whoever_asks() -> None:
    from tui.core.analytics import midnights

    store = Store.open(None)
    day = timedelta(days=1)
    # Completed days at 00:00 UTC; the forming day observed at every fetch in between.
    rows = [obs(100.0 + i, T0 + i * day, "btc.day.close.kraken") for i in range(5)]
    rows += [
        obs(1.0 + i, T0 + i * day + timedelta(minutes=7 * i + 1), "btc.day.close.kraken")
        for i in range(5)
    ]
    store.write(rows)
    since, until = T0 + day, T0 + 3 * day
    want = [(T0 + i * day, 100.0 + i) for i in (1, 2, 3)]
    assert store.midnights("btc.day.close.kraken", "kraken", since, until) == want

    class Plain:  # any other History: filtered in Python, the same answer
        def series(
            self,
            id_: str,
            source: str,
            since: datetime | None = None,
            until: datetime | None = None,
        ) -> list[tuple[datetime, float]]:
            return store.series(id_, source, since, until)

    assert midnights(Plain(), "btc.day.close.kraken", "kraken", since, until) == want
    assert midnights(store, "btc.day.close.kraken", "kraken", since, until) == want

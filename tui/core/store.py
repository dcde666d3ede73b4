"""The SQLite history: readings, status changes, the latest raw answer per endpoint; one writer."""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar, Final

from tui.core.errors import StoreError
from tui.core.model import Exchange, Observation, SourceStatus, Status

MEMORY: Final = ":memory:"
BUSY_TIMEOUT_S: Final = 2.0
RAW: Final = 0
MINUTE: Final = 60
HOUR: Final = 3600
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MS: Final = timedelta(milliseconds=1)
_DAY_MS: Final = 86_400_000

# Version 1. The readings primary key (id, source, observed_at) is the index that "latest per
# (id, source)" and series() walk: a WITHOUT ROWID table is stored in that order. The index on
# (resolution, observed_at) lets retention visit only the rows that have newly aged into a band.
_V1: Final = """
CREATE TABLE readings (
    id TEXT NOT NULL,
    source TEXT NOT NULL,
    observed_at INTEGER NOT NULL,           -- ms since the epoch, UTC
    value REAL NOT NULL,
    unit TEXT NOT NULL,
    resolution INTEGER NOT NULL DEFAULT 0,  -- 0 raw; 60, 3600: the last row of its UTC minute, hour
    PRIMARY KEY (id, source, observed_at)
) WITHOUT ROWID;
CREATE INDEX readings_by_resolution ON readings (resolution, observed_at);
CREATE TABLE status_changes (
    seq INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    at INTEGER NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    last_ok_at INTEGER,
    until INTEGER
);
CREATE INDEX status_changes_by_source ON status_changes (source, at);
CREATE TABLE exchanges (
    source TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    status INTEGER NOT NULL,
    headers TEXT NOT NULL,                  -- a JSON object
    body BLOB NOT NULL,
    fetched_at INTEGER NOT NULL,
    latency_ms REAL,
    PRIMARY KEY (source, endpoint)
);
"""

# Version 2: rows loaded by `btcwatch backfill` are marked, and the backfill keeps its place per
# series (resumable) in backfill_marks.
_V2: Final = """
ALTER TABLE readings ADD COLUMN backfilled INTEGER NOT NULL DEFAULT 0;  -- 1: from a backfill
CREATE TABLE backfill_marks (
    key TEXT PRIMARY KEY,                   -- the backfill's own name for a series
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL             -- ms since the epoch, UTC
);
"""

# A live reading of a moment a backfill loaded replaces it and clears the mark: it was seen.
_UPSERT: Final = """
INSERT INTO readings (id, source, observed_at, value, unit) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (id, source, observed_at) DO UPDATE SET value = excluded.value, unit = excluded.unit,
backfilled = 0"""
# A backfill never overwrites a row already held (live or loaded before): it is idempotent.
_BACKFILL: Final = """
INSERT OR IGNORE INTO readings (id, source, observed_at, value, unit, backfilled)
VALUES (?, ?, ?, ?, ?, 1)"""
_STATUS_COLUMNS: Final = "source, at, status, detail, last_ok_at, until"


@dataclass(frozen=True, slots=True)
class Retention:
    """How long history keeps each level of detail (the ``[store]`` config section)."""

    raw_days: float = 7.0
    """The latest raw body per endpoint is dropped when older than this."""
    minute_after_days: float = 7.0
    """Readings older than this keep one row per UTC minute (the last), per id and source."""
    hour_after_days: float = 90.0
    """Readings older than this keep one row per UTC hour (the last)."""


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one :meth:`Store.apply_retention` removed."""

    raw_deleted: int
    minute_rows_removed: int
    hour_rows_removed: int


class _Damaged(Exception):
    """The file is not a usable database; ``args[0]`` is a short reason."""


class Store:
    """The history database: one writer per file, any number of readers.

    Open it with :meth:`open`, which never raises for a damaged, locked or unwritable file: it falls
    back (to memory, or to reading only) and says why in :attr:`notice`. Any thread may call it (a
    lock serialises calls). Failures after opening raise :class:`~tui.core.errors.StoreError`.
    """

    MIGRATIONS: ClassVar[tuple[str, ...]] = (_V1, _V2)
    """SQL scripts; script *n* (from 1) brings the file to schema version *n*. Append, never edit.
    Scripts must not manage transactions: all pending ones run in one."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        path: str,
        retention: Retention,
        read_only: bool = False,
        notice: str | None = None,
        lock_fd: int | None = None,
    ) -> None:
        self.path = path
        self.read_only = read_only
        self.in_memory = path == MEMORY
        self.notice = notice
        """One line for the user when opening fell back (damaged → memory; locked → read-only)."""
        self.retention = retention
        self._conn = conn
        self._lock_fd = lock_fd
        self._mutex = threading.Lock()

    @classmethod
    def open(cls, path: Path | None, retention: Retention = Retention()) -> Store:
        """Open the history at ``path``, creating and migrating it.

        Args:
            path: the database file; None keeps history in memory for this run.
            retention: what :meth:`apply_retention` keeps.
        """
        if path is None:
            return cls._memory(retention, None)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock_fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            reason = e.strerror or type(e).__name__
            return cls._memory(
                retention, f"history file {path} cannot be created ({reason}); {_MEM}"
            )
        conn: sqlite3.Connection | None = None
        try:
            holder = _take_lock(lock_fd)
            if holder is None:
                conn = _connect(path, read_only=False)
                found = _migrate(conn, cls.MIGRATIONS)
        except (_Damaged, sqlite3.Error, OSError) as e:
            if conn is not None:
                conn.close()
            os.close(lock_fd)  # closing the descriptor releases the flock
            return cls._memory(retention, _fallback_notice(path, e))
        if conn is None:
            os.close(lock_fd)
            notice = (
                f"history is being written by another btcwatch (pid {holder}); this one reads only"
            )
            return cls._reader(path, retention, notice)
        if found > len(cls.MIGRATIONS):
            conn.close()
            os.close(lock_fd)  # let the newer btcwatch write
            known = len(cls.MIGRATIONS)
            notice = (
                f"history file {path} is from a newer btcwatch (schema v{found}, this one knows"
                f" v{known}); this one reads only"
            )
            return cls._reader(path, retention, notice)
        return cls(conn, path=str(path), retention=retention, lock_fd=lock_fd)

    @classmethod
    def open_read_only(cls, path: Path, retention: Retention = Retention()) -> Store:
        """The history at ``path`` for reading only: no writer lock, nothing created.

        Raises:
            StoreError: the file is missing or cannot be read.
        """
        if not path.exists():
            raise StoreError(path, "no history file")
        return cls._reader(path, retention, notice="")

    @classmethod
    def _reader(cls, path: Path, retention: Retention, notice: str) -> Store:
        try:
            conn = _connect(path, read_only=True)
        except (_Damaged, sqlite3.Error, OSError) as e:
            return cls._memory(retention, _fallback_notice(path, e))
        return cls(conn, path=str(path), retention=retention, read_only=True, notice=notice)

    @classmethod
    def _memory(cls, retention: Retention, notice: str | None) -> Store:
        conn = sqlite3.connect(MEMORY, isolation_level=None, check_same_thread=False)
        _migrate(conn, cls.MIGRATIONS)
        return cls(conn, path=MEMORY, retention=retention, notice=notice)

    def write(self, observations: Sequence[Observation]) -> int:
        """Upsert ``observations`` on (id, source, observed_at) in one transaction.

        Returns:
            The rows written; 0 for a read-only store.
        """
        if self.read_only or not observations:
            return 0
        rows = [(o.id, o.source, _ms(o.observed_at), o.value, o.unit) for o in observations]
        with self._transaction() as db:
            db.executemany(_UPSERT, rows)
        return len(rows)

    def write_backfill(self, observations: Sequence[Observation]) -> int:
        """Insert ``observations`` marked as backfilled, keeping any row already held.

        Returns:
            The rows newly added (a repeated backfill adds none); 0 for a read-only store.
        """
        if self.read_only or not observations:
            return 0
        rows = [(o.id, o.source, _ms(o.observed_at), o.value, o.unit) for o in observations]
        with self._transaction() as db:
            return db.executemany(_BACKFILL, rows).rowcount

    def backfill_mark(self, key: str) -> str | None:
        """The value a backfill stored under ``key`` (where it got to), if any."""
        with self._reading() as db:
            row = db.execute("SELECT value FROM backfill_marks WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_backfill_mark(self, key: str, value: str, at: datetime) -> None:
        """Store where a backfill got to under ``key``; a read-only store keeps nothing."""
        if self.read_only:
            return
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO backfill_marks (key, value, updated_at) VALUES (?, ?, ?)",
                (key, value, _ms(at)),
            )

    def first_live(self, id_: str, source: str) -> datetime | None:
        """The oldest reading of a series that was not backfilled (seen live), if any."""
        with self._reading() as db:
            row = db.execute(
                "SELECT MIN(observed_at) FROM readings WHERE id = ? AND source = ?"
                " AND backfilled = 0",
                (id_, source),
            ).fetchone()
        return None if row is None or row[0] is None else _dt(row[0])

    def backfilled_count(self, id_: str, source: str) -> int:
        """How many rows of a series a backfill loaded (and no live reading replaced)."""
        with self._reading() as db:
            row = db.execute(
                "SELECT COUNT(*) FROM readings WHERE id = ? AND source = ? AND backfilled = 1",
                (id_, source),
            ).fetchone()
        return int(row[0])

    def record_status(self, status: SourceStatus) -> bool:
        """Store ``status`` if its (status, detail) differs from its source's last stored one.

        The row's time is ``status.last_attempt_at`` (else now). Returns whether it stored.
        """
        if self.read_only:
            return False
        at = status.last_attempt_at or datetime.now(UTC)
        with self._transaction() as db:
            last = db.execute(
                "SELECT status, detail FROM status_changes WHERE source = ?"
                " ORDER BY at DESC, seq DESC LIMIT 1",
                (status.name,),
            ).fetchone()
            if last == (status.status.value, status.detail):
                return False
            db.execute(
                f"INSERT INTO status_changes ({_STATUS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    status.name,
                    _ms(at),
                    status.status.value,
                    status.detail,
                    _ms_or_none(status.last_ok_at),
                    _ms_or_none(status.until),
                ),
            )
        return True

    def save_exchange(self, source: str, endpoint: str, exchange: Exchange) -> None:
        """Keep ``exchange`` as the latest answer of ``endpoint`` (replacing the previous one)."""
        if self.read_only:
            return
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO exchanges VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    source,
                    endpoint,
                    exchange.method,
                    exchange.url,
                    exchange.status,
                    json.dumps(dict(exchange.headers), sort_keys=True),
                    exchange.body,
                    _ms(exchange.fetched_at),
                    exchange.latency_ms,
                ),
            )

    def latest_exchange(self, source: str, endpoint: str) -> Exchange | None:
        """The latest stored answer of ``endpoint``, if any."""
        with self._reading() as db:
            row = db.execute(
                "SELECT method, url, status, headers, body, fetched_at, latency_ms FROM exchanges"
                " WHERE source = ? AND endpoint = ?",
                (source, endpoint),
            ).fetchone()
        if row is None:
            return None
        method, url, code, headers, body, fetched_at, latency_ms = row
        kept = {str(k): str(v) for k, v in json.loads(headers).items()}
        return Exchange(method, url, code, kept, bytes(body), _dt(fetched_at), latency_ms)

    def latest(self) -> list[Observation]:
        """The newest reading per (id, source), sorted by id then source."""
        out: list[Observation] = []
        first = "SELECT id, source FROM readings"
        order = " ORDER BY id, source, observed_at LIMIT 1"
        after = " WHERE (id, source, observed_at) > (?, ?, 9223372036854775807)"
        with self._reading() as db:
            # A loose index scan: one seek per series, never a pass over the whole table. The
            # seek names the largest observed_at, or SQLite walks every row of the last series.
            key = db.execute(first + order).fetchone()
            while key is not None:
                row = db.execute(
                    "SELECT observed_at, value, unit FROM readings WHERE id = ? AND source = ?"
                    " ORDER BY observed_at DESC LIMIT 1",
                    key,
                ).fetchone()
                if row is not None:
                    out.append(Observation(key[0], row[1], row[2], key[1], _dt(row[0])))
                key = db.execute(first + after + order, key).fetchone()
        return out

    def series(
        self, id_: str, source: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[tuple[datetime, float]]:
        """``(observed_at, value)`` of one series, oldest first; both limits are inclusive."""
        lo = -(2**63) if since is None else _ms(since)
        hi = 2**63 - 1 if until is None else _ms(until)
        with self._reading() as db:
            rows = db.execute(
                "SELECT observed_at, value FROM readings WHERE id = ? AND source = ?"
                " AND observed_at BETWEEN ? AND ? ORDER BY observed_at",
                (id_, source, lo, hi),
            ).fetchall()
        return [(_dt(at), value) for at, value in rows]

    def midnights(
        self, id_: str, source: str, since: datetime, until: datetime
    ) -> list[tuple[datetime, float]]:
        """The rows of one series in [since, until] observed at a UTC midnight (completed days
        of a daily series), oldest first: SQLite skips the others, which never become objects."""
        with self._reading() as db:
            rows = db.execute(
                "SELECT observed_at, value FROM readings WHERE id = ? AND source = ?"
                " AND observed_at BETWEEN ? AND ? AND observed_at % ? = 0 ORDER BY observed_at",
                (id_, source, _ms(since), _ms(until), _DAY_MS),
            ).fetchall()
        return [(_dt(at), value) for at, value in rows]

    def count(self, id_: str, source: str, since: datetime, until: datetime) -> int:
        """How many rows a series holds in [since, until]."""
        with self._reading() as db:
            (n,) = db.execute(
                "SELECT COUNT(*) FROM readings WHERE id = ? AND source = ?"
                " AND observed_at BETWEEN ? AND ?",
                (id_, source, _ms(since), _ms(until)),
            ).fetchone()
        return int(n)

    def sampled(
        self, id_: str, source: str, since: datetime, until: datetime, n: int
    ) -> list[tuple[datetime, float]]:
        """At most ``n`` points of a series in [since, until], oldest first: the whole series when
        it has no more rows than that, else the last row of each of ``n`` equal slices of the time
        from its first row there to ``until``.

        One primary-key seek per slice: a 30-day chart of a 1-minute series costs ``n`` seeks,
        not 43,200 rows read and thinned (9 ms, not 150).
        """
        lo, hi = _ms(since), _ms(until)
        where = "id = ? AND source = ? AND observed_at BETWEEN ? AND ?"
        with self._reading() as db:
            count, first = db.execute(
                f"SELECT COUNT(*), MIN(observed_at) FROM readings WHERE {where}",
                (id_, source, lo, hi),
            ).fetchone()
            if count <= n:
                rows = db.execute(
                    f"SELECT observed_at, value FROM readings WHERE {where} ORDER BY observed_at",
                    (id_, source, lo, hi),
                ).fetchall()
            else:
                # The slices span the rows held, not the whole range: a series that began an hour
                # ago still gets its n points.
                lo = first
                rows, last = [], None
                for i in range(1, n + 1):
                    edge = hi if i == n else lo + (hi - lo) * i // n
                    row = db.execute(
                        f"SELECT observed_at, value FROM readings WHERE {where}"
                        " ORDER BY observed_at DESC LIMIT 1",
                        (id_, source, lo, edge),
                    ).fetchone()
                    if row is not None and row[0] != last:
                        rows.append(row)
                        last = row[0]
        return [(_dt(at), value) for at, value in rows]

    def status_history(self, source: str, limit: int = 50) -> list[SourceStatus]:
        """The stored status changes of ``source``, newest first."""
        with self._reading() as db:
            rows = db.execute(
                f"SELECT {_STATUS_COLUMNS} FROM status_changes WHERE source = ?"
                " ORDER BY at DESC, seq DESC LIMIT ?",
                (source, limit),
            ).fetchall()
        return [s for s in map(_status, rows) if s is not None]

    def last_statuses(self) -> dict[str, SourceStatus]:
        """The last stored status of every source."""
        with self._reading() as db:
            rows = db.execute(
                f"SELECT {_STATUS_COLUMNS} FROM (SELECT *, ROW_NUMBER() OVER"
                " (PARTITION BY source ORDER BY at DESC, seq DESC) AS n FROM status_changes)"
                " WHERE n = 1"
            ).fetchall()
        return {s.name: s for s in map(_status, rows) if s is not None}

    def apply_retention(self, now: datetime) -> RetentionReport:
        """Downsample aged readings and drop aged raw answers, in one transaction; idempotent.

        The band limits are floored to whole UTC minutes and hours, so no bucket straddles one.
        """
        if self.read_only:
            return RetentionReport(0, 0, 0)
        now_ms, r = _ms(now), self.retention
        minute_cut = _floor(now_ms - round(r.minute_after_days * _DAY_MS), MINUTE * 1000)
        hour_cut = _floor(now_ms - round(r.hour_after_days * _DAY_MS), HOUR * 1000)
        with self._transaction() as db:
            hour_removed = _downsample(db, -(2**63), hour_cut, HOUR)
            minute_removed = _downsample(db, hour_cut, minute_cut, MINUTE)
            raw_cut = now_ms - round(r.raw_days * _DAY_MS)
            raw = db.execute("DELETE FROM exchanges WHERE fetched_at < ?", (raw_cut,)).rowcount
        with self._reading() as db:
            db.execute("PRAGMA optimize")
        return RetentionReport(raw, minute_removed, hour_removed)

    def close(self) -> None:
        """Close the database and release the writer lock (idempotent)."""
        with self._mutex:
            self._conn.close()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._mutex:
            try:
                yield self._conn
            except sqlite3.Error as e:
                raise StoreError(self.path, str(e)) from e

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._reading() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.in_transaction:  # SQLite may have rolled back already (a full disk)
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")


_MEM: Final = "using memory only this run"


def _fallback_notice(path: Path, e: Exception) -> str:
    if isinstance(e, _Damaged):
        return (
            f"history file {path} is damaged ({e.args[0]}); {_MEM} — move it aside to start fresh"
        )
    reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
    return f"history file {path} cannot be opened ({reason}); {_MEM}"


def _take_lock(fd: int) -> str | None:
    """Take the writer lock on ``fd``: None when taken, else the holder's pid (as written)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return None


def _connect(path: Path, *, read_only: bool) -> sqlite3.Connection:
    """A checked connection: raises :class:`_Damaged` for a file that is not a sound database."""
    target = f"{path.resolve().as_uri()}?mode=ro" if read_only else str(path)
    conn = sqlite3.connect(
        target, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False, uri=read_only
    )
    try:
        problems = [str(row[0]) for row in conn.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            found = " ".join(" ".join(problems).split()).removeprefix("*** in database main *** ")
            raise _Damaged(f"quick_check: {found}"[:80])
        if not read_only:
            # WAL: readers never wait for the writer; NORMAL is safe in WAL against a crash of
            # this process (https://www.sqlite.org/pragma.html#pragma_synchronous).
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.DatabaseError as e:
        conn.close()
        if e.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
            raise _Damaged(str(e)) from e
        raise
    except _Damaged:
        conn.close()
        raise
    return conn


def _migrate(conn: sqlite3.Connection, migrations: Sequence[str]) -> int:
    """Run the pending ``migrations`` in one transaction; returns the version the file had."""
    found = 0
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").fetchone():
        found = int(conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0)
    if found >= len(migrations):
        return found
    # executescript() commits any open transaction first, so the transaction is part of the script.
    script = "\n".join(
        [
            "BEGIN IMMEDIATE;",
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);",
            *migrations[found:],
            "DELETE FROM schema_version;",
            f"INSERT INTO schema_version (version) VALUES ({len(migrations)});",
            "COMMIT;",
        ]
    )
    try:
        conn.executescript(script)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return found


def _downsample(db: sqlite3.Connection, lo: int, hi: int, resolution: int) -> int:
    """Keep the last row of each ``resolution``-second bucket in [lo, hi); returns rows removed.

    Only rows finer than ``resolution`` (those that aged into the band since the last run) are
    visited, so a run costs what aged since the previous one.
    """
    finer = ", ".join(str(level) for level in (RAW, MINUTE) if level < resolution)

    def aged(t: str) -> str:
        return f"{t}.resolution IN ({finer}) AND {t}.observed_at >= :lo AND {t}.observed_at < :hi"

    args = {"lo": lo, "hi": hi, "size": resolution * 1000, "res": resolution}
    # An aged row goes when a later row of its series shares its bucket.
    removed = db.execute(
        f"""DELETE FROM readings WHERE {aged("readings")} AND EXISTS (
            SELECT 1 FROM readings AS n WHERE n.id = readings.id AND n.source = readings.source
            AND n.observed_at > readings.observed_at
            AND n.observed_at < readings.observed_at / :size * :size + :size)""",
        args,
    ).rowcount
    # The aged rows left are each the last of their bucket, unless a row kept by an earlier run
    # is later still (removed above). When a late write lands after a kept row, the kept one goes.
    removed += db.execute(
        f"""DELETE FROM readings WHERE (id, source, observed_at) IN (
            SELECT k.id, k.source, k.observed_at FROM readings AS r JOIN readings AS k
            ON k.id = r.id AND k.source = r.source
            AND k.observed_at >= r.observed_at / :size * :size AND k.observed_at < r.observed_at
            WHERE {aged("r")})""",
        args,
    ).rowcount
    db.execute(f"UPDATE readings SET resolution = :res WHERE {aged('readings')}", args)
    return removed


def _status(row: tuple[str, int, str, str, int | None, int | None]) -> SourceStatus | None:
    """A stored status row; None for a status word this version does not know."""
    source, at, word, detail, last_ok_at, until = row
    try:
        status = Status(word)
    except ValueError:
        return None
    return SourceStatus(
        name=source,
        status=status,
        detail=detail,
        last_ok_at=_dt_or_none(last_ok_at),
        last_attempt_at=_dt(at),
        until=_dt_or_none(until),
    )


def _floor(ms: int, step: int) -> int:
    return ms // step * step


def _ms(at: datetime) -> int:
    """Milliseconds since the epoch (sub-millisecond parts are dropped); ``at`` must be aware."""
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at.isoformat()}: the store takes timezone-aware times")
    return (at - _EPOCH) // _MS


def _ms_or_none(at: datetime | None) -> int | None:
    return None if at is None else _ms(at)


def _dt(ms: int) -> datetime:
    # One multiplication of a constant timedelta (exact integer arithmetic), not a timedelta built
    # per row: half the cost of reading a series (43,200 rows: 87 -> 40 ms).
    return _EPOCH + _MS * ms


def _dt_or_none(ms: int | None) -> datetime | None:
    return None if ms is None else _dt(ms)

"""The recorder feed: a dashboard follows a running recorder, and polls itself once it stops."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from tui.core import paths
from tui.core.store import Store
from tui.host import AppHost

if TYPE_CHECKING:
    from tui.core.engine import Engine
    from tui.core.follower import Follower


class RecorderFeed(AppHost):
    """BtcwatchApp's part that follows a recorder (a mixin: see tui/host.py)."""

    def __init__(self) -> None:
        super().__init__()
        self._follower: Follower | None = None
        """The recorder-following feed built at boot (the engine while it is followed)."""
        self._writer: Store | None = None
        """The history opened for writing after a recorder stopped and ``r`` polled here."""
        self._feed_live: bool | None = None
        """Whether the recorder followed was live at the last update (``None``: not following)."""

    def _following(self) -> Follower | None:
        """The recorder feed, while it is what this dashboard reads from."""
        follower = self._follower
        return follower if follower is not None and self._engine is follower else None

    def _show_feed(self, follower: Follower) -> None:
        """The strip says where the data comes from; a toast when the recorder stops or is back."""
        self.dashboard.set_feed(follower.feed, lost=not follower.live)
        if self._feed_live is not None and follower.live != self._feed_live:
            if follower.live:
                self.notify(follower.feed, title="recorder", markup=False, timeout=10)
            else:
                self.notify(
                    follower.feed, title="recorder", severity="warning", markup=False, timeout=30
                )
        self._feed_live = follower.live

    @work(thread=True, exit_on_error=False, group="boot")
    def _poll_here(self) -> None:
        """The recorder stopped: take the history's writer lock and poll from this btcwatch.
        Views keep the read-only store, which sees every write (WAL)."""
        writer = Store.open(paths.store_file(), self.session.settings.retention)
        if writer.read_only or writer.in_memory:
            writer.close()
            self.call_from_thread(
                self.notify, f"cannot poll here: {writer.notice}", severity="warning", markup=False
            )
            return
        self._writer = writer
        engine = self._build_engine(writer)
        if self._board is not None:
            engine.adopt(self._board)
        self.call_from_thread(self._start_polling, engine)

    def _start_polling(self, engine: Engine) -> None:
        self._feed_live = None
        self.dashboard.set_feed("")
        self.notify("polling from here", timeout=3)
        self._run_engine(engine)  # exclusive: the follower's worker is cancelled

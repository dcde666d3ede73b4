"""AppHost: what BtcwatchApp's parts (its mixins) use of the app, declared for the type checker.

At run time ``AppHost`` is ``object``, so a part is a plain mixin and the app's CSS, bindings and
type names stay exactly its own: Textual follows an App's first DOMNode base for those, and a
part that subclassed App would come first. mypy sees an App with the members below instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App
    from textual.worker import Worker

    from tui.core.engine import Engine
    from tui.core.follower import Follower
    from tui.core.model import Board
    from tui.core.store import Store
    from tui.screens.dashboard import DashboardScreen
    from tui.session import Session

    class AppHost(App[None]):
        """The members of BtcwatchApp its parts use (see tui/app.py for each)."""

        session: Session
        _store: Store | None
        _board: Board | None
        _engine: Engine | Follower | None
        _closing: bool
        _dashboard: DashboardScreen | None

        @property
        def dashboard(self) -> DashboardScreen:
            raise NotImplementedError

        def _build_engine(self, store: Store) -> Engine:
            raise NotImplementedError

        def _run_engine(self, engine: Engine | Follower) -> Worker[None]:
            raise NotImplementedError

else:
    AppHost = object

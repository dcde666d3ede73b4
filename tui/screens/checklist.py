"""The checklist in full: the verdict with every condition, then each row with its whole reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from tui.core.config import Settings
from tui.core.model import Board, RowState, RuleResult, Verdict
from tui.core.panes.checklist import CALL_TONE, STATE_GLYPH, STATE_TONE, since_text
from tui.core.store import Store
from tui.messages import BoardChanged
from widgets.literal import literal

_TICK_STYLE: dict[bool | None, str] = {True: "$bullish", False: "$bearish", None: "$missing"}


def _tick(ok: bool | None) -> Content:
    glyph = "✓" if ok else "?" if ok is None else "✗"
    return Content.styled(glyph, _TICK_STYLE[ok])


def _conditions(items: tuple[tuple[str, bool | None], ...], sep: str) -> Content:
    return Content(sep).join(Content.assemble(_tick(ok), " ", literal(n)) for n, ok in items)


def verdict_content(v: Verdict | None, now: datetime) -> Content:
    """The call, since when, where price is, each side's conditions ticked, the next test."""
    if v is None:
        return literal("◌ verdict not judged yet: the checklist is judged every 30 s", "$missing")
    tone, glyph = CALL_TONE[v.call]
    since = since_text(v.since, now) if v.call != "no data" else ""
    head = Content.assemble(
        literal(f"{glyph} {v.call.upper()}", f"bold ${tone}"),
        literal(f"  {since}" if since else ""),
        literal(f" · {v.position}", "$text-muted"),
    )
    holding = Content.assemble(
        literal(f"holding $70k needs ({v.holding_count}/{len(v.holding)}): ", "bold"),
        _conditions(v.holding, "   "),
    )
    retest = Content.assemble(
        literal(f"retest likely while ({v.retest_count}/{len(v.retest)}): ", "bold"),
        _conditions(v.retest, "   "),
    )
    steps = Content.assemble(
        literal("next test needs, in order: ", "bold"), _conditions(v.steps, " → ")
    )
    return Content("\n").join([head, holding, retest, steps])


def row_content(r: RuleResult, now: datetime) -> Content:
    """``▼ bearish continuing  Funding  -0.0100 %/8h  since 3 h``, then the whole reason."""
    tone = STATE_TONE[r.state]
    parts = [
        literal(f"{STATE_GLYPH[r.state]} {r.state.value:<18}", f"${tone}"),
        literal(f"  {r.title:<16}", "bold"),
    ]
    if r.key_reading:
        parts.append(literal(f" {r.key_reading}"))
    since = since_text(r.since, now) if r.state not in (RowState.WAITING, RowState.STALE) else ""
    if since:
        parts.append(literal(f"  {since}", "$text-muted"))
    return Content("\n").join([Content.assemble(*parts), literal(f"  {r.reason}", "$text-muted")])


class ChecklistScreen(Screen[None]):
    """The verdict and every checklist row; Enter on a row opens its history.

    It refreshes on :class:`~tui.messages.BoardChanged` (and when shown again) from
    ``latest()``, the app's newest Board.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("enter", "open_row", "History", id="row-history"),
        Binding("v", "open_verdict", "Verdict history", id="verdict-history"),
    ]

    DEFAULT_CSS = """
    ChecklistScreen {
        #cl-title { height: auto; padding: 0 1; background: $panel; }
        #cl-verdict { height: auto; padding: 1 1; }
        #cl-rows { height: 1fr; }
        #cl-rows > .option-list--option { padding: 0 1; }
        #cl-note { height: auto; padding: 0 1; color: $text-muted; }
    }
    """

    def __init__(
        self,
        board: Board,
        settings: Settings,
        store: Store,
        latest: Callable[[], Board | None] | None = None,
    ) -> None:
        """The checklist of ``board``.

        Args:
            board: the Board to show first.
            settings: the pivot and the rule overrides (the history screen draws thresholds).
            store: the history (read only in the history screen's thread workers).
            latest: the app's newest Board, read on each ``BoardChanged``; by default the app's
                ``_board`` attribute when it has one.
        """
        super().__init__()
        self._board = board
        self._settings = settings
        self._store = store
        self._latest = latest
        self._shown: tuple[tuple[RuleResult, ...], Verdict | None, datetime] | None = None

    def compose(self) -> ComposeResult:
        yield Static(
            Content.assemble(("Checklist", "bold"), "  ", ("not advice", "$text-muted")),
            id="cl-title",
        )
        yield Static(id="cl-verdict")
        yield OptionList(id="cl-rows")
        yield Static(
            Content(
                "Enter: a row's history (inputs, thresholds, flips) · v: the verdict's history"
            ),
            id="cl-note",
        )
        yield Footer()

    def on_mount(self) -> None:
        self._show(self._board)
        self.query_one("#cl-rows", OptionList).focus()

    @property
    def board(self) -> Board:
        """The Board shown."""
        return self._board

    def _newest(self) -> Board | None:
        if self._latest is not None:
            return self._latest()
        board = getattr(self.app, "_board", None)
        return board if isinstance(board, Board) else None

    def on_board_changed(self, _message: BoardChanged) -> None:
        self.refresh_board()

    def on_screen_resume(self, _event: events.ScreenResume) -> None:
        self.refresh_board()

    def refresh_board(self) -> None:
        """Show the app's newest Board (nothing happens when it is the one shown)."""
        board = self._newest()
        if board is not None:
            self._show(board)

    def _show(self, board: Board) -> None:
        self._board = board
        now = board.generated_at
        key = (board.checklist, board.verdict, now)
        if key == self._shown:
            return
        self._shown = key
        self.query_one("#cl-verdict", Static).update(verdict_content(board.verdict, now))
        rows = self.query_one("#cl-rows", OptionList)
        highlighted = rows.highlighted
        if board.checklist:
            options = [Option(row_content(r, now), id=r.key) for r in board.checklist]
        else:
            wait = literal("the checklist is judged every 30 s: no row yet", "$missing")
            options = [Option(wait, id="-none", disabled=True)]
        rows.set_options(options)
        if board.checklist:
            rows.highlighted = min(highlighted or 0, len(options) - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id and event.option.id != "-none":
            self.open_history(event.option.id)

    def action_open_row(self) -> None:
        rows = self.query_one("#cl-rows", OptionList)
        if rows.highlighted is not None:
            option = rows.get_option_at_index(rows.highlighted)
            if option.id and option.id != "-none":
                self.open_history(option.id)

    def action_open_verdict(self) -> None:
        self.open_history(("verdict", "rules"))

    def open_history(self, key: str | tuple[str, str]) -> None:
        """Push the history of row ``key`` (or of an ``(id, source)`` series)."""
        from tui.screens.history import HistoryScreen

        self.app.push_screen(HistoryScreen(self._store, self._settings, key, now=self._clock))

    def _clock(self) -> datetime:
        """The Board's time: the demo's clock in a demo, the wall clock live."""
        board = self._newest() or self._board
        return datetime.now(UTC) if board.mode == "live" else board.generated_at

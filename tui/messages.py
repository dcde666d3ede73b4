"""App-level Textual messages carrying core model objects."""

from __future__ import annotations

from textual.message import Message

from tui.core.model import Board, Update


class EngineUpdated(Message):
    """The engine finished a fetch. A burst from one source coalesces: only the newest counts."""

    def __init__(self, update: Update) -> None:
        self.update = update
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        """A newer update of a source replaces its queued older one (each carries a whole Board)."""
        return isinstance(message, EngineUpdated) and message.update.source == self.update.source


class BoardLoaded(Message):
    """The cached Board from the store, painted before the first network round."""

    def __init__(self, board: Board, notices: tuple[str, ...]) -> None:
        self.board = board
        self.notices = notices
        super().__init__()


class EngineStopped(Message):
    """The engine ended with an error; the app offers a restart."""

    def __init__(self, error: str) -> None:
        self.error = error
        super().__init__()


class BoardChanged(Message, bubble=False):
    """Sent to the screen on top when new data was painted; screens that show data reload."""

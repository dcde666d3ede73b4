"""Checklist flips told to the user: one toast, the bell, and the user's alert command for each."""

from __future__ import annotations

from collections.abc import Sequence

from textual import work
from textual.app import App

from tui.core.alerts import Alert
from tui.core.config import Settings


def announce(
    app: App[None], alerts: Sequence[Alert], settings: Settings, *, run_commands: bool
) -> None:
    """Flips: one toast, the bell (it reaches a terminal over SSH), the user's command each.

    Args:
        app: the app that shows the toast and runs the commands in threads.
        alerts: the flips of one update (none: nothing happens).
        settings: the user's bell and alert command.
        run_commands: False while following a recorder: it runs the command, once per machine.
    """
    if not alerts:
        return
    title = "checklist flip" if len(alerts) == 1 else f"{len(alerts)} checklist flips"
    app.notify("\n".join(a.text() for a in alerts), title=title, timeout=10, markup=False)
    if settings.alert_bell:
        app.bell()
    for alert in alerts:
        if settings.alert_command and run_commands:
            _run_alert_command(app, settings.alert_command, alert)


@work(thread=True, group="alerts", exit_on_error=False)
def _run_alert_command(app: App[None], command: str, alert: Alert) -> None:
    from tui.core.alerts import run_command

    problem = run_command(command, alert)
    if problem is not None:
        app.call_from_thread(app.notify, problem, title="alert", severity="warning", markup=False)

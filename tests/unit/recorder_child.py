"""The recorder as its own process, for test_recorder: ``btcwatch record --daemon`` in effect.

Usage: ``recorder_child.py`` with ``BTCWATCH_CONFIG`` and ``BTCWATCH_DATA_DIR`` set by the test.
Runs :func:`tui.core.recorder.command` as the CLI will, and exits with its code.
"""

from __future__ import annotations

import sys

from tui.core import config, recorder


def main() -> int:
    return recorder.command(config.load(), err=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())

"""btcwatch: is BTC holding $70k, or is a retest coming? A terminal monitor."""

__version__ = "0.1.0"

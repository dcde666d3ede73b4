"""Textual themes with btcwatch's semantic variables."""

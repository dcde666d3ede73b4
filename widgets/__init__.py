"""Dumb Textual views: reactives in, render out."""

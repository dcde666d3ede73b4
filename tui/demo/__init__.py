"""The bundled demo recording (a labelled scenario of 5-6 Feb 2026)."""

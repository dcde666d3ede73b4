"""One module per provider: a declarative spec plus pure parse functions."""

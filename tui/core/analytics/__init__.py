"""Pure functions over observations: no I/O."""

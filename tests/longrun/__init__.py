"""Long runs: a day of recorded exchanges through the whole engine."""

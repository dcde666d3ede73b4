"""The screens of btcwatch: the dashboard, a bucket's drill-down, and help."""

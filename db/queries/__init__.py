"""What the read models are built from, not read models themselves: every figure (figures.py), the
WHERE for an API and a period (scope.py), rows as polars frames (frames.py), a period's active
customers (activity.py) and the scheduled signals as stored (snapshots.py)."""

"""Benchmarks of Footfall: ingest (bench.ingest) and the dashboard (bench.dashboard)."""

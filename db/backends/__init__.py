"""What differs by engine, and nothing else: one backend object per engine (base.py: the interface
they share and the Connection protocol; sqlite.py; postgres.py, with the translation of db/'s SQL
for PostgreSQL), PostgreSQL URLs read and printed safely (postgres_url.py), the dashboard's
read-only pools (read_pools.py) and PostgreSQL's day partitions (partitions.py). Only here does
code ask which engine it is on or import a driver (tests/architecture/test_layers.py)."""

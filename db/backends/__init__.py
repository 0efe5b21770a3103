"""What differs by engine: the PostgreSQL connection and its SQL translation (postgres.py), PostgreSQL
URLs read and printed safely (postgres_url.py), which engine a connection talks to (dialect.py), the
dashboard's read-only pools (read_pools.py) and PostgreSQL's day partitions (partitions.py)."""

"""Storage: the only place with SQL, each folder one role.

- connection.py: where the database is (a SQLite file or a PostgreSQL URL), its backend, connect
  and connect_readonly, transactions. errors.py: the errors callers catch, on either engine.
- backends/: what differs by engine: base.py (the Backend interface, one method per operation
  that differs, and the Connection protocol), sqlite.py and postgres.py (each engine's backend and
  connection; postgres.py translates db/'s SQL), postgres_url.py (a PostgreSQL URL read and printed
  safely), read_pools.py (the dashboard's read-only pools), partitions.py (PostgreSQL's day
  partitions of the raw requests).
- schema/: both engines' schemas side by side, as migrations: sqlite.py, postgres.py.
- queries/: what the read models are built from, not read models themselves: figures.py (every
  figure built once), scope.py (the WHERE for an API and a period), frames.py (rows to polars),
  activity.py (a period's active customers), snapshots.py (reading the scheduled signals).
- reads/: the read models, and nothing else, one module per page or part of one: this folder is
  the list ui.data.read accepts (tests/architecture/test_imports.py holds it to that).
- writes/: the write side: records.py (RecordWriter: a batch of records with every rollup),
  upserts.py, activity.py, endpoints.py (endpoint adoption's rollups; reads/endpoints.py is its
  read side), counters.py, edits.py (the dashboard's edits), apis.py, identity.py (identity rules and
  API keys mapped to customers), links.py, sessions.py, analysts.py, kept_keys.py, snapshots.py
  (keeping the scheduled signals).
- operations/: whole-database work: prune.py, erase.py, backup.py (raw_requests.py: what prune
  and erase share), copy.py (SQLite into PostgreSQL), leases.py (work one collector does for all
  on a team server), alert_checks.py, merge.py (what an API key's fingerprint counted, moved to the
  customer it is mapped to).
"""

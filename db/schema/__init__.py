"""The schemas of both engines, side by side: SQLite's (sqlite.py, PRAGMA user_version records how
far it is migrated) and PostgreSQL's (postgres.py, the table footfall_schema), each as numbered
migrations applied in order by its backend (Backend.migrate). They define the same tables and
columns (tests/db/test_schema.py), and here are the raw requests' columns in the order a writer
hands their rows to a backend (Backend.insert_requests).
"""

from __future__ import annotations

from db.schema.request_log import REQUEST_LOG_COLUMNS as REQUEST_COLUMNS  # request_log's (db/schema/request_log.py)
# ts: PostgreSQL partitions the details by their request's time; SQLite's table has no such column.
# details: the masked headers, bodies and errors packed by core/detail_codec.py with the dictionary.
DETAIL_COLUMNS = ("request_id", "ts", "dictionary_id", "details")

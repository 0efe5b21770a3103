"""Work on the whole database: prune, erase and backup (raw_requests.py holds what prune and erase
share), copy (SQLite into PostgreSQL), leases (work one collector does for all on a team server)
and the alert checks."""

"""The write side: a batch of records with every rollup (records.py, through upserts.py, activity.py
and endpoints.py), the counters that say the data changed, the dashboard's edits, APIs, customer
links, sessions, analysts, the keys kept with the database, and the scheduled signals kept."""

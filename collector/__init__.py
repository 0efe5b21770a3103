"""The collector: Treblle-compatible HTTP ingest (app), its writer process (writer), its HTTP
worker processes (workers) and the ingest path it shares with import and demo (ingest)."""

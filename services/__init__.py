"""What the collector, the dashboard and the command line all use, so that none of them imports
another: settings (read from the environment here and nowhere else), starting and stopping
processes, the one ingest path, demo seeding, alert rounds with webhook delivery, the scheduled
signal refresh and retention."""

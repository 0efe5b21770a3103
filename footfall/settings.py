"""Every setting Footfall reads from the environment, read here and nowhere else."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DB = Path("data") / "footfall.db"


@dataclass(frozen=True)
class Settings:
    """Every setting, as read from the environment."""

    db_path: Path
    host: str
    collector_port: int
    collector_workers: int
    dashboard_port: int
    max_body_bytes: int
    writer_socket: str | None


def settings(environ: dict[str, str] | None = None) -> Settings:
    """The settings from the environment (os.environ unless given), with their defaults."""
    env = os.environ if environ is None else environ
    return Settings(
        db_path=Path(env.get("FOOTFALL_DB") or DEFAULT_DB),
        host=env.get("FOOTFALL_HOST", "127.0.0.1"),
        collector_port=int(env.get("FOOTFALL_COLLECTOR_PORT", "8470")),
        # Processes serving the collector; each parses and enriches, SQLite serialises their commits.
        collector_workers=max(1, int(env.get("FOOTFALL_COLLECTOR_WORKERS") or os.cpu_count() or 1)),
        dashboard_port=int(env.get("FOOTFALL_DASHBOARD_PORT", "8501")),
        max_body_bytes=int(env.get("FOOTFALL_MAX_BODY_BYTES", str(5 * 1024 * 1024))),
        # Set by `footfall collect` for its HTTP workers: where its writer process listens.
        writer_socket=env.get("FOOTFALL_WRITER_SOCKET") or None,
    )

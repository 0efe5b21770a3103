"""Every byte a test's database keeps on disk, for the tests that look for what must (or must
never) be stored: a SQLite file with its -wal and -shm; on PostgreSQL, after a CHECKPOINT, the
files of the database's folder (base/<oid>: tables, indexes, TOAST, the planner's statistics) and,
unless wal=False, the segments of the server's write-ahead log written since the database was
made. The test cluster runs as the `postgres` user and the tests as root, so they can read them.
The request details are packed (core/detail_codec.py), so what they hold is not in those bytes as
text: stored_bytes adds the texts they unpack to."""

from __future__ import annotations

from pathlib import Path

from db.connection import is_postgres


def stored_bytes(db, wal: bool = True) -> bytes:
    """The bytes, followed by the texts the packed request details hold (a byte search cannot see
    inside them; unpacked_details)."""
    return _file_bytes(db, wal) + unpacked_details(db)


def _file_bytes(db, wal: bool) -> bytes:
    if not is_postgres(db):
        return b"".join(p.read_bytes() for p in sorted(Path(db).parent.glob(Path(db).name + "*")))
    import psycopg

    with psycopg.connect(str(db), autocommit=True) as conn:
        conn.execute("CHECKPOINT")  # every page written to its file, the WAL to disk
        data = Path(conn.execute("SHOW data_directory").fetchone()[0])
        oid = conn.execute("SELECT oid FROM pg_database WHERE datname = current_database()").fetchone()[0]
    folder = data / "base" / str(oid)
    files = sorted(p for p in folder.iterdir() if p.is_file())
    if wal:
        made = folder.stat().st_ctime - 1
        files += sorted(p for p in (data / "pg_wal").iterdir() if p.is_file() and p.stat().st_mtime >= made)
    return b"".join(_present_bytes(p) for p in files)


def _present_bytes(path: Path) -> bytes:
    """The file's bytes; none when the server removed it meanwhile (pg_internal.init, a dropped relation)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def relations_holding(url: str, needles: list[str | bytes]) -> dict[str, list[str | bytes]]:
    """On PostgreSQL, after a CHECKPOINT: which relation of the database (table, index, TOAST or
    catalog, by name; a file no relation maps to by its file name) keeps which of these strings
    in its files, so that a failure says where the bytes are, not only that they are. A needle
    may be bytes (a packed detail as stored)."""
    import psycopg

    found: dict[str, list[str]] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        data = Path(conn.execute("SHOW data_directory").fetchone()[0])
        oid = conn.execute("SELECT oid FROM pg_database WHERE datname = current_database()").fetchone()[0]
        for path in sorted(p for p in (data / "base" / str(oid)).iterdir() if p.is_file()):
            content = _present_bytes(path)
            held = [needle for needle in needles
                    if (needle if isinstance(needle, bytes) else needle.encode()) in content]
            if not held:
                continue
            node = path.name.split("_")[0].split(".")[0]  # 16401, 16401.1, 16401_fsm, 16401_vm
            relation = conn.execute("SELECT pg_filenode_relation(0, %s)::regclass::text",
                                    (int(node),)).fetchone()[0] if node.isdigit() else None
            kept = found.setdefault(relation or path.name, [])
            kept += [needle for needle in held if needle not in kept]
    return found


def unpacked_details(db) -> bytes:
    """Every request's details as the texts they were packed from (core/detail_codec.py)."""
    from db.connection import connect_readonly
    from db.queries.details import unpacked

    conn = connect_readonly(db)
    try:
        rows = conn.execute("SELECT dictionary_id, details FROM request_details").fetchall()
        return "\n".join("\n".join(detail.values()) for detail in unpacked(conn, rows)).encode()
    finally:
        conn.close()

"""Ingest benchmark: `import` of generated payloads, and the collector under concurrent clients.

    .venv/bin/python -m bench.ingest [--import-payloads 1000000] [--collector-payloads 60000]
        [--otlp-spans 60000] [--spans-per-body 512]
        [--postgres postgresql://user@host:5432/postgres] [--collectors 1 2]

With --postgres, every stage writes into PostgreSQL instead of SQLite files: the bench makes a
database of its own per stage on that server (footfall_bench_<stage>, dropped first if it exists).
--collectors runs the collector stage once per count given, that many collector processes (each
with its own HTTP workers and writer, as on separate machines) writing into one database, the
clients spread over them. The OTLP stage posts the same kind of calls as OpenTelemetry SERVER spans
(protobuf bodies of --spans-per-body spans, as an exporter's batches, to /v1/traces) through one
collector, and prints spans/s beside the Treblle stage's payloads/s of the same run.

Also times import's two stages apart, each a ceiling on it: parsing and enriching on every core
with no database, and the write stage alone (the serial part). Splits the collector's CPU per
payload between its HTTP workers and its writer. Prints a profile of the hot path; the last line
is JSON with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import orjson

from core.demo import DEMO_APIS, demo_payloads
from core.keys import key_hash
from core.payload import api_key_of
from db.connection import connect
from db.reads.freshness import request_count
from db.writes.apis import add_api
from services.processes import free_port
from services.settings import settings

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--import-payloads", type=int, default=1_000_000)
    parser.add_argument("--collector-payloads", type=int, default=60_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--profile-payloads", type=int, default=50_000)
    parser.add_argument("--enrich-payloads", type=int, default=200_000)
    parser.add_argument("--write-payloads", type=int, default=200_000)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server (a database URL on it) to write into")
    parser.add_argument("--collectors", type=int, nargs="+", default=[1], help="collector processes, one run per count")
    parser.add_argument("--skip-import", action="store_true", help="the collector stage alone")
    parser.add_argument("--otlp-spans", type=int, default=60_000, help="spans for the OTLP stage (0: none)")
    parser.add_argument("--spans-per-body", type=int, default=512, help="spans in each OTLP body (an export batch)")
    args = parser.parse_args()
    global SERVER
    SERVER = args.postgres
    with tempfile.TemporaryDirectory(prefix="footfall-bench-") as work:
        work = Path(work)
        results = {"machine_cores": os.cpu_count(), "backend": "postgresql" if SERVER else "sqlite"}
        if not args.skip_import:
            results.update(bench_import(work, args.import_payloads))
            results.update(profile_import(work, args.profile_payloads))
            results.update(bench_enrich_stage(work, args.enrich_payloads))
            results.update(bench_write_stage(work, args.write_payloads))
            results.update(import_ceiling(results))
        for collectors in args.collectors:
            figures = bench_collector(work, args.collector_payloads, args.clients, collectors)
            results.update({f"{key}_{collectors}x" if collectors > 1 else key: value for key, value in figures.items()})
        if args.otlp_spans:
            results.update(bench_otlp(work, args.otlp_spans, args.spans_per_body, args.clients))
            print(f"OTLP beside Treblle, same run: {results['otlp_spans_per_s']:,} spans/s"
                  f" ({args.spans_per_body} a body) against {results['collector_payloads_per_s']:,} payloads/s"
                  " (one a body, as the SDKs send them)")
    print(orjson.dumps(results).decode())


SERVER: str | None = None  # --postgres: the server every stage writes into


def new_db(path: Path) -> Path | str:
    """A new database with the demo APIs: the SQLite file `path`, or on --postgres a database of
    that name on the server."""
    if SERVER:
        import psycopg

        name = f"footfall_bench_{path.stem}"
        with psycopg.connect(SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        path = SERVER.rsplit("/", 1)[0] + "/" + name
    conn = connect(path)
    for name, key in DEMO_APIS:
        add_api(conn, name, key)
    conn.close()
    return path


def db_megabytes(db: Path | str) -> int:
    if SERVER:
        with closing(connect(db)) as conn:
            return round(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 1e6)
    return round(Path(db).stat().st_size / 1e6)


def write_jsonl(path: Path, count: int, seed: int) -> float:
    started = time.perf_counter()
    keys = [key for _, key in DEMO_APIS]
    with open(path, "wb") as out:
        for p in demo_payloads(keys, count, seed=seed, now=time.time(), days=90):
            out.write(orjson.dumps(p) + b"\n")
    return time.perf_counter() - started


def bench_import(work: Path, count: int) -> dict:
    source = work / "payloads.jsonl"
    generated = write_jsonl(source, count, seed=1)
    db = new_db(work / "import.db")
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "footfall", "--db", str(db), "import", str(source)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    seconds = time.perf_counter() - started
    stored = connect(db).execute("SELECT COUNT(*) FROM requests").fetchone()[0]
    print(f"import: {out.splitlines()[0]} in {seconds:.1f}s = {count / seconds:,.0f} payloads/s "
          f"(file {source.stat().st_size / 1e6:.0f} MB, generated in {generated:.1f}s)")
    return {
        "import_payloads": count,
        "import_seconds": round(seconds, 2),
        "import_payloads_per_s": round(count / seconds),
        "import_stored": stored,
        "import_db_mb": db_megabytes(db),
    }


def profile_import(work: Path, count: int) -> dict:
    """Where the time goes: pyinstrument over the import path in one process (in `import`, the
    parse-and-enrich part runs in worker processes and the write part in the main one)."""
    from pyinstrument import Profiler

    from db.writes.records import RecordWriter
    from footfall import cli
    from services.ingest import IMPORT_BATCH, in_batches, ingest_batches

    source = work / "profile.jsonl"
    write_jsonl(source, count, seed=2)
    db = new_db(work / "profile.db")
    writer = RecordWriter(connect(db))
    batches = in_batches(cli._jsonl_lines([source]), IMPORT_BATCH)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    report = ingest_batches(writer, batches, received_at=time.time())
    profiler.stop()
    print(f"profile: {report.accepted} payloads through the import path in one process")
    print(profiler.output_text(unicode=False, color=False, show_all=False, short_mode=False)[:8000])
    return {}


def _enriched_count(batch: list[tuple[str, bytes]], known_keys: frozenset[str]) -> int:
    from services.ingest import records_from_batch

    return len(records_from_batch(batch, known_keys, time.time())[0])


def bench_enrich_stage(work: Path, count: int) -> dict:
    """The part of `import` that runs in parallel: decoding, parsing and enriching, in the worker
    pool on every core, with no database at all. Import can go no faster than this either."""
    from functools import partial

    from footfall import cli
    from services.ingest import IMPORT_BATCH, enrichment_pool, in_batches

    source = work / "enrich.jsonl"
    write_jsonl(source, count, seed=5)
    batches = list(in_batches(cli._jsonl_lines([source]), IMPORT_BATCH))
    with enrichment_pool() as pool:
        work_on = partial(_enriched_count, known_keys=frozenset(key_hash(k) for _, k in DEMO_APIS))
        enrich = partial(pool.map, work_on, chunksize=1) if pool else lambda items: list(map(work_on, items))
        enrich(batches[:2])  # the workers' first batches pay for warming their caches
        started = time.perf_counter()
        enriched = sum(enrich(batches))
        seconds = time.perf_counter() - started
    cores = os.cpu_count() or 1
    print(f"enrich stage alone: {enriched} payloads decoded, parsed and enriched on {cores} cores in {seconds:.1f}s "
          f"= {enriched / seconds:,.0f} payloads/s ({seconds * cores / enriched * 1e6:.0f} us of CPU each, no database)")
    return {"enrich_stage_payloads": enriched, "enrich_stage_payloads_per_s": round(enriched / seconds)}


def import_ceiling(results: dict) -> dict:
    """The most `import` could do on this machine as built: both stages' CPU per payload shared
    by every core (and never more than the serial write stage alone), with nothing counted for
    moving records between processes."""
    cores = os.cpu_count() or 1
    cpu_per_payload = cores / results["enrich_stage_payloads_per_s"] + 1 / results["write_stage_payloads_per_s"]
    ceiling = min(cores / cpu_per_payload, results["write_stage_payloads_per_s"])
    print(f"import ceiling: {cpu_per_payload * 1e6:.0f} us of CPU per payload (enrich + write) on {cores} cores "
          f"= at most {ceiling:,.0f} payloads/s")
    return {"import_ceiling_payloads_per_s": round(ceiling)}


def bench_write_stage(work: Path, count: int) -> dict:
    """The part of `import` that cannot run in parallel: RecordWriter.write of records already
    parsed and enriched, committed every 20,000 as import does. However many cores enrich,
    import can go no faster than this."""
    from services.ingest import records_from_batch
    from db.writes.records import RecordWriter

    source = work / "write.jsonl"
    write_jsonl(source, count, seed=4)
    with open(source, "rb") as lines:
        records, _ = records_from_batch([("", line) for line in lines], frozenset(key_hash(k) for _, k in DEMO_APIS), time.time())
    writer = RecordWriter(connect(new_db(work / "write.db")))
    started = time.perf_counter()
    for start in range(0, len(records), 20_000):
        writer.write(records[start:start + 20_000])
    seconds = time.perf_counter() - started
    print(f"write stage alone: {count} enriched records in {seconds:.1f}s = {count / seconds:,.0f} payloads/s "
          f"({seconds / count * 1e6:.0f} us each, one process)")
    return {"write_stage_payloads": count, "write_stage_payloads_per_s": round(count / seconds),
            "write_stage_stored": request_count(writer.conn)}


def bench_collector(work: Path, count: int, clients: int, collectors: int = 1) -> dict:
    os.sync()  # the import's gigabyte of dirty pages must not be flushed during the collector's fsyncs
    db = new_db(work / "collector.db")
    ports = [free_port() for _ in range(collectors)]
    servers = [subprocess.Popen(
        [sys.executable, "-m", "footfall", "--db", str(db), "collect", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL,
    ) for port in ports]
    try:
        for port in ports:
            wait_until_up(port)
        keys = [key for _, key in DEMO_APIS]
        bodies = []
        for i, p in enumerate(demo_payloads(keys, count, seed=3, now=time.time(), days=1)):
            p["data"]["request"]["url"] = f"https://bench.example.com/bench/{i}"  # a marker per payload
            bodies.append(orjson.dumps(p))
        before = {p: cpu for server, port in zip(servers, ports) for p, cpu in process_cpu(server.pid, port).items()}
        requests = [treblle_head(len(body)) + body for body in bodies]
        acked, latencies, seconds, failures = asyncio.run(post_all(ports, requests, clients))
        used: dict[str, float] = {}
        for server, port in zip(servers, ports):
            for process, (role, cpu) in process_cpu(server.pid, port).items():  # roles as they are by the end
                used[role] = used.get(role, 0.0) + cpu - before.get(process, (role, 0.0))[1]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
    conn = connect(db)
    stored_markers = {int(row[0].rsplit("/", 1)[1]) for row in conn.execute("SELECT path FROM requests")}
    missing = len(set(acked) - stored_markers)
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000  # noqa: E731
    print(f"collector ({collectors} process{'es' if collectors > 1 else ''}, {'PostgreSQL' if SERVER else 'SQLite'}):"
          f" {len(acked)} acknowledged of {count} in {seconds:.1f}s = {len(acked) / seconds:,.0f} payloads/s "
          f"with {clients} keep-alive clients; ack p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms; "
          f"failures {failures}; acknowledged but missing: {missing}")
    per_payload = {role: round(cpu / max(len(acked), 1) * 1e6) for role, cpu in used.items()}
    idle = 100 * (1 - sum(used.values()) / (seconds * (os.cpu_count() or 1)))
    print("collector CPU per payload: " + ", ".join(f"{role} {us} us" for role, us in per_payload.items())
          + f" (the benchmark's own clients apart); CPU left idle: {idle:.0f}%")
    return {
        "collector_cpu_us_per_payload": per_payload,
        "collector_clients": clients,
        "collector_workers": settings().collector_workers,
        "collector_acknowledged": len(acked),
        "collector_payloads_per_s": round(len(acked) / seconds),
        "collector_ack_p50_ms": round(pick(0.5), 2),
        "collector_ack_p99_ms": round(pick(0.99), 2),
        "collector_failures": failures,
        "collector_acknowledged_missing": missing,
    }


def treblle_head(length: int) -> bytes:
    return (f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


async def post_all(ports: list[int], requests: list[bytes], clients: int, accepted=lambda reply: True):
    """Keep-alive HTTP/1.1 clients on raw sockets: cheap enough not to starve the server. With
    several collectors, the clients take turns: client k talks to collector k mod n. A request
    is acknowledged when its reply is a 200 and `accepted(reply body)`."""
    next_index = iter(range(len(requests)))
    acked, latencies, failures = [], [], 0

    async def client(port: int):
        nonlocal failures
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for i in next_index:
            sent = time.perf_counter()
            writer.write(requests[i])
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            reply = await reader.readexactly(length)
            latencies.append(time.perf_counter() - sent)
            if status_line.split()[1] == b"200" and accepted(reply):
                acked.append(i)
            else:
                failures += 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(ports[k % len(ports)]) for k in range(clients)))
    return acked, latencies, time.perf_counter() - started, failures


def span_of(payload: dict, marker: int, start_ns: int):
    """A demo call as the OpenTelemetry SERVER span a Flask app would report (stable attribute
    names), its path a marker, its customer the app's enduser.id."""
    from urllib.parse import urlsplit

    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import Span

    request, response = payload["data"]["request"], payload["data"]["response"]
    url = urlsplit(request["url"])
    headers = request.get("headers") or {}
    attributes = {"http.request.method": request["method"], "url.scheme": url.scheme, "server.address": url.hostname,
                  "url.path": f"/otlp/{marker}", "url.query": url.query, "client.address": request["ip"],
                  "user_agent.original": request["user_agent"], "http.response.status_code": response["code"]}
    customer = orjson.loads(headers.get("treblle-metadata") or "{}").get("user-id") or headers.get("treblle-user-id")
    if customer:
        attributes["enduser.id"] = customer
    values = [KeyValue(key=k, value=AnyValue(int_value=v) if isinstance(v, int) else AnyValue(string_value=v))
              for k, v in attributes.items() if v]
    for name in ("authorization", "x-request-id", "accept"):
        if isinstance(headers.get(name), str):
            values.append(KeyValue(key="http.request.header." + name.replace("-", "_"),
                                   value=AnyValue(array_value=ArrayValue(values=[AnyValue(string_value=headers[name])]))))
    duration_ns = int(min(float(response.get("load_time") or 0), 5_000) * 1_000_000)
    return Span(trace_id=marker.to_bytes(16, "big"), span_id=marker.to_bytes(8, "big"), name=f"{request['method']} {url.path}",
                kind=Span.SpanKind.SPAN_KIND_SERVER, start_time_unix_nano=start_ns,
                end_time_unix_nano=start_ns + duration_ns, attributes=values)


def otlp_bodies(count: int, per_body: int) -> tuple[list[bytes], list[list[int]]]:
    """Requests to /v1/traces of `per_body` spans each (an exporter's batch, one API's service, its
    key in x-footfall-api-key), and the markers of the spans each holds."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
    from opentelemetry.proto.resource.v1.resource_pb2 import Resource
    from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans

    keys = [key for _, key in DEMO_APIS]
    by_key: dict[str, list] = {key: [] for key in keys}
    start_ns = time.time_ns()
    for i, p in enumerate(demo_payloads(keys, count, seed=6, now=time.time(), days=1)):
        by_key[api_key_of(p)].append((i, span_of(p, i, start_ns - i * 1_000_000)))
    requests, markers = [], []
    for key, spans in by_key.items():
        for start in range(0, len(spans), per_body):
            chunk = [span for _, span in spans[start:start + per_body]]
            body = ExportTraceServiceRequest(resource_spans=[ResourceSpans(
                resource=Resource(attributes=[KeyValue(key="service.name", value=AnyValue(string_value="bench"))]),
                scope_spans=[ScopeSpans(scope=InstrumentationScope(name="opentelemetry.instrumentation.flask"),
                                        spans=chunk)])]).SerializeToString()
            head = (f"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n"
                    f"x-footfall-api-key: {key}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            requests.append(head + body)
            markers.append([i for i, _ in spans[start:start + per_body]])
    return requests, markers


def bench_otlp(work: Path, count: int, per_body: int, clients: int) -> dict:
    """OpenTelemetry spans through one collector: protobuf bodies of `per_body` SERVER spans from
    concurrent keep-alive clients; every acknowledged span must be stored."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

    db = new_db(work / "otlp.db")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "footfall", "--db", str(db), "collect", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL,
    )
    try:
        wait_until_up(port)
        requests, markers = otlp_bodies(count, per_body)
        whole = lambda reply: ExportTraceServiceResponse.FromString(reply).partial_success.rejected_spans == 0  # noqa: E731
        acked, latencies, seconds, failures = asyncio.run(post_all([port], requests, min(clients, len(requests)), whole))
    finally:
        server.terminate()
        server.wait(timeout=30)
    with closing(connect(db)) as conn:
        stored_markers = {int(row[0].rsplit("/", 1)[1]) for row in conn.execute("SELECT path FROM requests")}
    acked_markers = {marker for i in acked for marker in markers[i]}
    spans = len(acked_markers)
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000  # noqa: E731
    missing = len(acked_markers - stored_markers)
    print(f"OTLP ({'PostgreSQL' if SERVER else 'SQLite'}): {spans} spans acknowledged of {count} in {seconds:.1f}s"
          f" = {spans / seconds:,.0f} spans/s in {len(requests)} protobuf bodies of up to {per_body} with"
          f" {min(clients, len(requests))} keep-alive clients; ack p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms;"
          f" failures {failures}; acknowledged but missing: {missing}")
    return {"otlp_spans": count, "otlp_spans_per_body": per_body, "otlp_acknowledged": spans,
            "otlp_spans_per_s": round(spans / seconds), "otlp_ack_p50_ms": round(pick(0.5), 2),
            "otlp_ack_p99_ms": round(pick(0.99), 2), "otlp_failures": failures, "otlp_acknowledged_missing": missing}


def process_cpu(pid: int, port: int) -> dict[int, tuple[str, float]]:
    """Each of the collector's processes with its role and CPU time so far (user + system), from
    /proc: the HTTP workers (the processes listening on the port), the writer, and the process
    that supervises them."""
    tick = os.sysconf("SC_CLK_TCK")
    listening = {fields[9] for fields in map(str.split, Path("/proc/net/tcp").read_text().splitlines()[1:])
                 if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A"}
    children = [int(c) for t in Path(f"/proc/{pid}/task").iterdir() for c in (t / "children").read_text().split()]
    found: dict[int, tuple[str, float]] = {}
    for process in [pid, *children]:
        try:
            if b"resource_tracker" in Path(f"/proc/{process}/cmdline").read_bytes():
                continue
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            sockets = {os.readlink(fd)[8:-1] for fd in Path(f"/proc/{process}/fd").iterdir()
                       if os.readlink(fd).startswith("socket:[")}
        except OSError:  # gone meanwhile
            continue
        role = "http workers" if sockets & listening else "supervisor" if process == pid else "writer"
        found[process] = (role, (int(fields[11]) + int(fields[12])) / tick)
    return found


def wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError("the collector did not start")


if __name__ == "__main__":
    main()

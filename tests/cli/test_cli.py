"""The command line against a real SQLite file: in this process (conftest.footfall), and as a process
of its own where that is the point (the environment it reads, a reader that stops early)."""

import csv
import gzip
import io
import json
import subprocess
import sys

from conftest import ROOT, footfall
from factories import jsonl, payload
from loading import load


def test_apis_add_with_a_given_key_and_a_duplicate_name_is_refused(db_path):
    assert footfall("apis", "add", "Shop API", "--api-key", "k1", db=db_path).stdout.strip() == "k1"
    again = footfall("apis", "add", "Shop API", db=db_path, check=False)
    assert again.returncode == 1 and "already registered" in again.stderr


def test_import_keeps_good_lines_and_reports_bad_ones(db_path, tmp_path):
    footfall("apis", "add", "Shop", "--api-key", "test-project-key", db=db_path)
    file = tmp_path / "calls.jsonl.gz"
    lines = jsonl([payload(user_id="a"), payload(user_id="b")]) + b"{oops\n" + jsonl([payload(api_key="nope"), payload(user_id="a")])
    file.write_bytes(gzip.compress(lines))
    out = footfall("import", str(file), db=db_path).stdout
    assert "imported 3 payloads, rejected 2" in out
    assert "not valid JSON" in out and "no API is registered" in out
    customers = json.loads(footfall("customers", "--format", "json", db=db_path).stdout)
    assert {c["customer_id"]: c["requests"] for c in customers} == {"a": 2, "b": 1}


def test_customers_json_has_the_documented_fields_and_shares_of_all_traffic(db_path, tmp_path):
    footfall("apis", "add", "Shop", "--api-key", "test-project-key", db=db_path)
    file = tmp_path / "calls.jsonl"
    file.write_bytes(jsonl([payload(user_id="a", timestamp="2026-11-20 10:15:00"), payload(user_id=None), payload(user_id=None), payload(user_id=None)]))
    footfall("import", str(file), db=db_path)
    [row] = json.loads(footfall("customers", "--api", "Shop", "--format", "json", db=db_path).stdout)
    assert row == {"customer_id": "a", "display_name": "a", "requests": 1, "share": 25.0,
                   "first_seen": "2026-11-20T10:15:00Z", "last_active": "2026-11-20T10:15:00Z"}


def test_customers_since_and_until_limit_the_period(db_path, tmp_path):
    footfall("apis", "add", "Shop", "--api-key", "test-project-key", db=db_path)
    file = tmp_path / "calls.jsonl"
    file.write_bytes(jsonl([payload(user_id="a", timestamp=f"2026-11-{d:02d} 10:00:00") for d in (1, 2, 3, 4)]))
    footfall("import", str(file), db=db_path)
    rows = json.loads(footfall("customers", "--since", "2026-11-02", "--until", "2026-11-03T23:00:00Z", "--format", "json", db=db_path).stdout)
    assert rows[0]["requests"] == 2


def test_requests_prints_the_customers_calls_newest_first(db_path, tmp_path):
    footfall("apis", "add", "Shop", "--api-key", "test-project-key", db=db_path)
    file = tmp_path / "calls.jsonl"
    file.write_bytes(jsonl([
        payload(user_id="a", timestamp="2026-11-20 10:00:00", url="https://api.example.com/api/items/1?id=1' OR 1=1--"),
        payload(user_id="a", timestamp="2026-11-20 11:00:00", user_agent="curl/8.5.0", load_time=3.25),
    ]))
    footfall("import", str(file), db=db_path)
    newest, oldest = json.loads(footfall("requests", "--customer", "a", "--format", "json", db=db_path).stdout)
    assert newest["time"] == "2026-11-20T11:00:00Z" and newest["load_time_ms"] == 3.25 and newest["device"] == "api client"
    assert oldest["threat_level"] == "high" and oldest["threat_reasons"]
    assert set(newest) == {"time", "method", "status", "path", "endpoint", "load_time_ms", "threat_level", "threat_reasons",
                           "device", "ai_agent", "country", "city", "ip", "customer_id"}


def test_an_unknown_api_name_is_a_clear_error(db_path):
    result = footfall("customers", "--api", "Nope", db=db_path, check=False)
    assert result.returncode == 1 and "no API named 'Nope'" in result.stderr


def test_db_can_come_from_the_environment(tmp_path):
    import os
    import subprocess
    import sys

    from conftest import ROOT

    db = tmp_path / "env.db"
    subprocess.run([sys.executable, "-m", "footfall", "apis", "add", "Env API"], cwd=ROOT, check=True,
                   env={**os.environ, "FOOTFALL_DB": str(db)}, capture_output=True)
    assert "Env API" in footfall("apis", "list", db=db).stdout


def test_output_cut_short_by_the_reader_ends_quietly(conn, db_path):
    load(conn, [payload(user_id=f"cus_{n}") for n in range(1500)])  # about 250 KB of JSON: more than a pipe holds
    reader = subprocess.Popen([sys.executable, "-m", "footfall", "--db", str(db_path), "customers", "--format", "json"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout.read(100).startswith(b"[")
    reader.stdout.close()  # like `| head -c 100`
    assert reader.wait(timeout=60) == 0
    assert b"Traceback" not in reader.stderr.read()


def test_csv_output_escapes_cells_a_spreadsheet_would_run_as_formulas(db_path, tmp_path):
    footfall("apis", "add", "Shop", "--api-key", "test-project-key", db=db_path)
    file = tmp_path / "calls.jsonl"
    file.write_bytes(jsonl([payload(user_id="=HYPERLINK(\"http://evil.example\")", user_agent="@evil-agent")]))
    footfall("import", str(file), db=db_path)
    customers = list(csv.DictReader(io.StringIO(footfall("customers", "--format", "csv", db=db_path).stdout)))
    assert customers[0]["customer_id"] == "'=HYPERLINK(\"http://evil.example\")"
    requests = list(csv.DictReader(io.StringIO(
        footfall("requests", "--customer", "=HYPERLINK(\"http://evil.example\")", "--format", "csv", db=db_path).stdout)))
    assert len(requests) == 1 and requests[0]["customer_id"].startswith("'=")


def test_a_truncated_gzip_file_keeps_the_lines_before_the_damage_and_says_so(db_path, tmp_path):
    footfall("apis", "add", "Shop", "--api-key", "test-project-key", db=db_path)
    whole = gzip.compress(jsonl([payload(user_id=f"u{n}", body={"pad": "x" * 3000}) for n in range(60)]))
    damaged, fine = tmp_path / "damaged.jsonl.gz", tmp_path / "fine.jsonl"
    damaged.write_bytes(whole[: len(whole) * 2 // 3])
    fine.write_bytes(jsonl([payload(user_id="after")]))
    run = footfall("import", str(damaged), str(fine), db=db_path, check=False)
    assert run.returncode == 1 and "damaged.jsonl.gz: could not be read past line" in run.stdout
    stored = {c["customer_id"] for c in json.loads(footfall("customers", "--format", "json", db=db_path).stdout)}
    assert "after" in stored and 0 < len(stored - {"after"}) < 60

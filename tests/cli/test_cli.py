"""The command line against a real SQLite file: in this process (conftest.footfall), and as a process
of its own where that is the point (the environment it reads, a reader that stops early)."""

import csv
import gzip
import io
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, footfall, until
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


def test_tables_are_plain_aligned_text_in_the_pages_formats(conn, db_path):
    load(conn, [*[payload(user_id="big", timestamp="2026-11-20 10:15:00") for _ in range(1001)],
                payload(user_id="slow", timestamp="2026-11-21 08:30:00", load_time=10758.8), payload(user_id=None)])
    header, rule, *rows = footfall("customers", db=db_path).stdout.splitlines()
    assert header.split() == ["customer_id", "display_name", "requests", "share", "first_seen", "last_active"]
    assert set(rule) == {"-", " "} and len(rows) == 2
    assert rows[0].split() == ["big", "big", "1,001", "99.8%", *["2026-11-20", "10:15", "UTC"] * 2]
    assert rows[1].split()[2:4] == ["1", "<0.1%"]  # 1 of 1,003, as the pages write it
    end = header.index("requests") + len("requests")  # numbers right-aligned under their header
    assert [row[:end].split()[-1] for row in rows] == ["1,001", "1"]
    table = footfall("requests", "--customer", "slow", db=db_path).stdout
    header, rule, row = table.splitlines()
    columns = [match.span() for match in re.finditer(r"-+", rule)]  # each column's width, from the rule under it
    cells = {header[start:end].strip(): row[start:end].strip() for start, end in columns}
    assert (cells["time"], cells["load_time_ms"], cells["ai_agent"], cells["city"]) == (
        "2026-11-21 08:30 UTC", "10,758.8 ms", "–", "–")
    assert not re.search(r"\b(null|str|i64|f64)\b|[┆│╞]", table)


def test_requests_of_an_unknown_customer_is_an_error_as_elsewhere(db_path):
    result = footfall("requests", "--customer", "nobody-here", db=db_path, check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == "footfall: no customer with the ID 'nobody-here'; see `footfall customers`\n"


@pytest.mark.parametrize("command", [["customers"], ["endpoints"]])
def test_a_period_that_ends_before_it_starts_is_refused(db_path, command):
    result = footfall(*command, "--since", "2026-12-05", "--until", "2026-12-01", db=db_path, check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == "footfall: --until (2026-12-01 00:00 UTC) must come after --since (2026-12-05 00:00 UTC)\n"


@pytest.mark.parametrize("command, option", [
    (["customers", "--since", "yesterday"], "--since"),
    (["endpoints", "--until", "12/01/2026"], "--until"),
])
def test_a_date_that_is_not_one_says_which_form_is_expected(db_path, command, option):
    result = footfall(*command, db=db_path, check=False)
    assert result.returncode == 1
    assert result.stderr == f"footfall: {option}: expected a date like 2026-12-01 or 2026-12-01T08:00, got {command[-1]!r}\n"
    quiet = footfall("quiet", "--now", "yesterday", db=db_path, check=False)
    assert "--now: expected a date like 2026-12-01 or 2026-12-01T08:00, or epoch seconds, got 'yesterday'" in quiet.stderr
    accepted = ("2026-12-01", "2026-12-01T08:00", "2026-12-01 08:00:00", "2026-12-01T08:00:00Z", "2026-12-01T08:00+02:00")
    assert all(footfall("customers", "--since", text, db=db_path).returncode == 0 for text in accepted)


@pytest.mark.parametrize("command", [["alerts", "firings", "--limit", "-1"], ["requests", "--customer", "a", "--limit", "0"]])
def test_a_limit_must_be_above_zero(db_path, command):
    result = footfall(*command, db=db_path, check=False)
    name = " ".join(command[:2] if command[0] == "alerts" else command[:1])
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == \
        f"footfall {name}: error: argument --limit: expected a whole number above 0, got {command[-1]!r}"


@pytest.mark.parametrize("command", [["customers"], ["alerts", "list"]])
def test_an_unknown_option_shows_the_usage_of_its_command(db_path, command):
    result = footfall(*command, "--bogus", db=db_path, check=False)
    assert result.returncode == 2 and result.stderr.startswith(f"usage: footfall {' '.join(command)} [-h]")
    assert result.stderr.splitlines()[-1] == f"footfall {' '.join(command)}: error: unrecognized arguments: --bogus"


def test_ctrl_c_during_a_command_ends_it_with_one_line_and_no_traceback(db_path, tmp_path):
    footfall("apis", "add", "Shop", "--api-key", "test-project-key", db=db_path)
    fifo = tmp_path / "calls.jsonl"
    os.mkfifo(fifo)
    importing = subprocess.Popen([sys.executable, "-m", "footfall", "--db", str(db_path), "import", str(fifo)],
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with open(fifo, "wb") as feed:  # returns once the import has opened it
        feed.write(jsonl([payload(user_id="u1")]))
        feed.flush()
        # Ctrl-C while it waits for more lines (the kernel says it sleeps reading the pipe)
        assert until(lambda: "pipe_read" in Path(f"/proc/{importing.pid}/wchan").read_text(), 30)
        importing.send_signal(signal.SIGINT)
    out, err = importing.communicate(timeout=60)
    assert importing.returncode == 130
    assert err.strip() == "footfall: interrupted" and "Traceback" not in err + out

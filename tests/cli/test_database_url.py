"""A PostgreSQL URL's password is never printed: not on the collector's start line, not in an
error, not in a traceback. A URL libpq cannot read, or would read otherwise than it looks, is
refused in one line; a server that does not answer is said in one line."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys

import pytest

from conftest import ROOT, footfall, free_port, stop, wait_for_http
from db.backends.postgres_url import without_password

SECRET = "Zq7-not-the-pw"  # trust authentication lets any password in: what matters is where it shows


def on_cluster(pg_cluster, credentials: str, query: str = "") -> str:
    """A URL of a fresh database of the test cluster, with these credentials and query."""
    url = pg_cluster.create_database(template=pg_cluster.template)
    return url.replace("postgresql://footfall@", f"postgresql://{credentials}@") + query


def refused_in_one_line(result: subprocess.CompletedProcess) -> str:
    """The one line the command line printed on refusing, checked to hold no traceback."""
    assert result.returncode == 1 and result.stdout == ""
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


@pytest.mark.parametrize("url", [
    f"postgresql://footfall:{SECRET}@db.internal:5432/footfall",
    f"postgresql://footfall@db.internal/footfall?sslmode=require&password={SECRET}",
    f"postgres://footfall@db.internal/footfall?pass%77ord={SECRET}",  # libpq decodes parameter names
    f"postgresql://footfall@db.internal/footfall?sslpassword={SECRET}",
    f"postgresql://footfall:p@ss{SECRET}@db.internal/footfall",  # libpq ends the password at the first @
    f"postgresql://footfall:p/ss{SECRET}@db.internal/footfall",
    f"postgresql://footfall:p?ss{SECRET}@db.internal/footfall",
    f"mysql://root:{SECRET}@db.internal/footfall",  # not ours, but printed in `copy --to`'s refusal
])
def test_no_part_of_a_password_is_printed_however_the_url_holds_it(url):
    shown = without_password(url)
    assert "Zq7" not in shown and "***" in shown
    assert "db.internal" in shown


def test_a_password_in_the_query_stays_off_the_collectors_start_line(pg_cluster):
    url = on_cluster(pg_cluster, "footfall", f"?password={SECRET}")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "footfall", "--db", url, "collect", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", process)
        with selectors.DefaultSelector() as waiting:
            waiting.register(process.stdout, selectors.EVENT_READ)
            assert waiting.select(timeout=30), "no start line"
        line = process.stdout.readline()
    finally:
        stop(process)
        pg_cluster.drop_database(url.split("?")[0])
    assert line.startswith("Footfall collector on") and "?password=***" in line
    assert SECRET not in line + process.stderr.read()


def test_a_password_with_an_at_sign_is_refused_until_it_is_percent_encoded(pg_cluster):
    url = on_cluster(pg_cluster, f"footfall:p@ss{SECRET}")
    try:
        line = refused_in_one_line(footfall("apis", "list", db=url, check=False))
        assert "percent-encode" in line and "Zq7" not in line and "p@ss" not in line
        encoded = url.replace("p@ss", "p%40ss")
        assert footfall("apis", "list", db=encoded).returncode == 0
    finally:
        pg_cluster.drop_database(url)


def test_an_invalid_percent_escape_is_one_line_without_the_password(pg_cluster):
    url = on_cluster(pg_cluster, f"footfall:pw%zz{SECRET}")
    try:
        line = refused_in_one_line(footfall("apis", "list", db=url, check=False))
    finally:
        pg_cluster.drop_database(url)
    assert "not a PostgreSQL URL libpq can read: invalid percent-encoded token" in line and "Zq7" not in line


def test_a_bad_url_in_the_environment_is_one_line_too():
    env = {**os.environ, "FOOTFALL_DB": f"postgresql://footfall:pw%zz{SECRET}@127.0.0.1:1/footfall"}
    result = subprocess.run([sys.executable, "-m", "footfall", "apis", "list"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert "Zq7" not in refused_in_one_line(result)


def test_a_server_that_does_not_answer_is_one_line_without_the_password():
    url = f"postgresql://footfall:{SECRET}@127.0.0.1:{free_port()}/footfall"
    line = refused_in_one_line(footfall("apis", "list", db=url, check=False))
    assert line.startswith("footfall: cannot reach PostgreSQL at postgresql://footfall:***@127.0.0.1:")
    assert "Connection refused" in line and SECRET not in line


def test_copy_to_a_bad_url_names_it_without_the_password(tmp_path):
    source = tmp_path / "footfall.db"
    footfall("apis", "add", "Shop", "--api-key", "shop-key", db=source)
    for target in (f"mysql://root:{SECRET}@db.internal/footfall", f"postgresql://root:pw%zz{SECRET}@127.0.0.1:1/x"):
        line = refused_in_one_line(footfall("copy", "--to", target, db=source, check=False))
        assert "Zq7" not in line and target.split("@")[1] in line

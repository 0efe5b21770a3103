"""The README's curl example is a payload the real collector takes, and means what the README says
it means: the example's command, read from the README, posted to a collector as curl would post it."""

from __future__ import annotations

import json
import re
import shlex
from datetime import datetime, timezone

import httpx
import pytest

from conftest import ROOT, start_collector, stop
from db.connection import connect
from db.writes.apis import add_api

EXAMPLE_KEY = "YOUR_API_KEY"  # the README's placeholder, registered as the key itself


@pytest.fixture(scope="module")
def collector(tmp_path_factory):
    """One collector for the module, on a SQLite file with the README's placeholder key registered."""
    db = tmp_path_factory.mktemp("readme") / "footfall.db"
    conn = connect(db)
    add_api(conn, "README API", EXAMPLE_KEY)
    process, url = start_collector(db)
    yield url, conn
    stop(process)
    conn.close()


def readme_curl() -> list[str]:
    """The README's curl example as the shell splits it."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    [example] = [block for block in blocks if block.lstrip().startswith("curl ")]
    return shlex.split(example)


def test_the_readme_s_curl_example_is_accepted_and_stored_as_it_says(collector):
    url, conn = collector
    argv = readme_curl()
    headers = dict(h.split(": ", 1) for flag, h in zip(argv, argv[1:]) if flag == "-H")
    body = argv[argv.index("-d") + 1]
    target = next(arg for arg in argv if arg.startswith("http://127.0.0.1:8470/"))
    reply = httpx.post(target.replace("http://127.0.0.1:8470", url), content=body.encode(), headers=headers)
    assert (reply.status_code, reply.json()) == (200, {"accepted": 1})
    stored = conn.execute("SELECT c.external_id, r.status, r.load_time_ms, r.ts FROM requests r "
                          "JOIN customers c ON c.id = r.customer_id").fetchall()
    at = json.loads(body)["data"]["request"]["timestamp"]
    assert [tuple(row) for row in stored] == [
        ("acme", 200, 42.5, int(datetime.fromisoformat(at).replace(tzinfo=timezone.utc).timestamp()))]

"""The collector's writer: submissions waiting together share a transaction, and one bad
submission fails alone."""

import queue
from multiprocessing import Pipe

from collector.writer import group_commit
from core.record import record_from_payload
from factories import payload


def records(*payloads):
    return [record_from_payload(p, received_at=0) for p in payloads]


def test_one_bad_submission_fails_alone_and_the_others_are_committed(conn, writer):
    worker_end, writer_end = Pipe()
    submissions = queue.SimpleQueue()
    bad = records(payload(user_id="b"))
    bad[0] = bad[0]._replace(threat_level="extreme")  # violates the CHECK constraint
    submissions.put((writer_end, 1, records(payload(user_id="a"))))
    submissions.put((writer_end, 2, bad))
    submissions.put((writer_end, 3, records(payload(user_id="c"), payload(user_id="c"))))
    submissions.put(None)
    group_commit(writer, submissions)
    replies = dict(worker_end.recv() for _ in range(3))
    assert replies[1] is None and replies[3] is None
    assert "CHECK constraint" in replies[2]
    stored = conn.execute("SELECT external_id, requests FROM customers ORDER BY external_id").fetchall()
    assert stored == [("a", 1), ("c", 2)]


def test_waiting_submissions_share_one_transaction(conn, writer):
    worker_end, writer_end = Pipe()
    submissions = queue.SimpleQueue()
    for ticket in range(5):
        submissions.put((writer_end, ticket, records(payload(user_id=f"cus_{ticket}"))))
    submissions.put(None)
    statements = []
    conn.set_trace_callback(statements.append)
    group_commit(writer, submissions)
    conn.set_trace_callback(None)
    assert sorted(worker_end.recv() for _ in range(5)) == [(t, None) for t in range(5)]
    assert statements.count("BEGIN IMMEDIATE") == 1 and statements.count("COMMIT") == 1
    assert conn.execute("SELECT requests FROM api_hourly").fetchall() == [(5,)]

"""The collector's writer: what the workers sent meanwhile shares one transaction, one bad
submission fails alone, and each worker hears back in one message."""

from multiprocessing import Pipe

from collector.writer import commit_together, receive
from core.record import record_from_payload
from factories import payload


def records(*payloads):
    return [record_from_payload(p, received_at=0) for p in payloads]


def test_everything_waiting_from_every_worker_is_received_at_once():
    first_worker, first_end = Pipe()
    second_worker, second_end = Pipe()
    first_worker.send([(1, records(payload(user_id="a")))])
    first_worker.send([(2, records(payload(user_id="b"))), (3, records(payload(user_id="c")))])
    second_worker.send([(1, records(payload(user_id="d")))])
    workers = [first_end, second_end]
    batch = receive([first_end, second_end], workers)
    assert [(conn is first_end, ticket) for conn, ticket, _ in batch] == [(True, 1), (True, 2), (True, 3), (False, 1)]
    assert workers == [first_end, second_end]


def test_a_worker_that_hung_up_is_dropped():
    worker, worker_end = Pipe()
    worker.close()
    workers = [worker_end]
    assert receive([worker_end], workers) == []
    assert workers == []


def test_one_bad_submission_fails_alone_and_the_others_are_committed(conn, writer):
    worker, worker_end = Pipe()
    bad = records(payload(user_id="b"))
    bad[0] = bad[0]._replace(threat_level="extreme")  # no threat level the database can keep
    batch = [
        (worker_end, 1, records(payload(user_id="a"))),
        (worker_end, 2, bad),
        (worker_end, 3, records(payload(user_id="c"), payload(user_id="c"))),
    ]
    commit_together(writer, batch)
    replies = dict(worker.recv())  # one message per worker
    assert replies[1] is None and replies[3] is None
    assert "a threat level is one of low, medium, high, not 'extreme'" in replies[2]
    stored = conn.execute("SELECT external_id, requests FROM customers ORDER BY external_id").fetchall()
    assert stored == [("a", 1), ("c", 2)]


def test_a_batch_is_one_transaction(conn, writer, backend):
    first_worker, first_end = Pipe()
    second_worker, second_end = Pipe()
    batch = [(first_end if t % 2 else second_end, t, records(payload(user_id=f"cus_{t}"))) for t in range(5)]
    statements = []
    if backend == "sqlite":
        conn.set_trace_callback(statements.append)
    commit_together(writer, batch)
    if backend == "sqlite":
        conn.set_trace_callback(None)
        assert statements.count("BEGIN IMMEDIATE") == 1 and statements.count("COMMIT") == 1
    else:  # every row written by one transaction: the same xmin (the id of the transaction that wrote it)
        written = {xmin for table in ("request_log", "customers", "api_hourly", "customer_hourly")  # details in request_log
                   for (xmin,) in conn.execute(f"SELECT DISTINCT xmin::text FROM {table}")}
        assert len(written) == 1
    assert first_worker.recv() == [(1, None), (3, None)]
    assert second_worker.recv() == [(0, None), (2, None), (4, None)]
    assert conn.execute("SELECT requests FROM api_hourly").fetchall() == [(5,)]


def test_on_postgresql_the_collector_makes_the_partitions_of_today_and_the_week_ahead_before_any_traffic(pg_cluster):
    import time

    from conftest import start_collector, stop
    from core.periods import DAY
    from db.connection import connect
    from db.backends.partitions import DAYS_AHEAD, existing_days

    url = pg_cluster.create_database(template=pg_cluster.template)
    conn = connect(url)
    try:
        assert existing_days(conn) == set()
        process, _ = start_collector(url)  # its writer listens once they are made
        stop(process)
        today = int(time.time()) // DAY * DAY
        assert existing_days(conn) >= {today + n * DAY for n in range(DAYS_AHEAD + 1)}
    finally:
        conn.close()
        pg_cluster.drop_database(url)

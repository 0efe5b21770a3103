"""A real Flask app instrumented by opentelemetry-instrumentation-flask, exporting its spans with
opentelemetry-exporter-otlp-proto-http, set up only through the environment as a service would be
(OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME,
OTEL_SEMCONV_STABILITY_OPT_IN, OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST, ...).

    python otel_flask_app.py CALLS_JSON

serves on 127.0.0.1, makes the calls ([{"method", "path", "headers"}]) to itself over HTTP, then
flushes its spans to the exporter and exits: 0 when every call was answered and every export
succeeded. The instrumentation reads OTEL_SEMCONV_STABILITY_OPT_IN when it instruments, so each
naming is a process of its own."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import urllib.error
import urllib.request

from flask import Flask, request
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
from werkzeug.serving import make_server

# The app's own sign-in: a bearer token is one of its users.
USERS = {"tok-ada-0001": ("cus_ada", "Ada Lovelace"), "tok-bob-0002": ("cus_bob", "Bob Builder")}


class CountingExporter(OTLPSpanExporter):
    """The real exporter, counting the exports that failed."""

    failures = 0

    def export(self, spans):
        result = super().export(spans)
        if result is not SpanExportResult.SUCCESS:
            CountingExporter.failures += 1
        return result


def identify() -> None:
    """The app's sign-in names the user on the request's span (as a before_request hook after the
    instrumentation's own, which starts the span)."""
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if token in USERS:
        customer_id, name = USERS[token]
        span = trace.get_current_span()
        span.set_attribute("enduser.id", customer_id)
        span.set_attribute("user.full_name", name)


def create_app() -> Flask:
    app = Flask("shop")

    @app.get("/api/items/<int:item_id>")
    def item(item_id: int):
        return {"id": item_id}

    @app.post("/api/orders")
    def order():
        return {"id": 1}, 201

    @app.get("/api/slow")
    def slow():
        time.sleep(0.05)
        return {"ok": True}

    @app.get("/api/public")
    def public():
        return {"ok": True}

    return app


def main(calls: list[dict]) -> int:
    logging.basicConfig(level=logging.WARNING)
    provider = TracerProvider()  # its resource from OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES
    provider.add_span_processor(BatchSpanProcessor(CountingExporter()))  # endpoint, headers, compression: env
    trace.set_tracer_provider(provider)
    app = create_app()
    FlaskInstrumentor().instrument_app(app)
    app.before_request(identify)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    unanswered = 0
    for call in calls:
        sent = urllib.request.Request(f"http://127.0.0.1:{server.server_port}{call['path']}", method=call["method"],
                                      headers=call.get("headers", {}), data=b"{}" if call["method"] == "POST" else None)
        try:
            urllib.request.urlopen(sent, timeout=30).read()
        except urllib.error.HTTPError as error:  # a 4xx or 5xx is an answer too
            error.read()
        except OSError as error:
            print(f"{call}: {error}", file=sys.stderr)
            unanswered += 1
    server.shutdown()
    provider.shutdown()  # exports what is left
    print(f"exports failed: {CountingExporter.failures}", file=sys.stderr)
    return 1 if unanswered or CountingExporter.failures else 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))

"""The demo APIs, one per SDK flavour, and what a run precomputes for each (pools of paths, queries
and bodies, load-time tables, the server's wall-clock hours, incidents):

- Payments API: format A, Django SDK 2.x (version 20, load_time ms, wall-clock time in
  America/New_York, `route_path` like `api/orders/{order_id}`, the query as a dict beside a URL
  without one, request.ip taken from X-Forwarded-For) -- shaped like tests/sdk/samples;
- Catalog API: format A, `@treblle/express` 1.x (load_time in microseconds, UTC timestamps whatever
  timezone the server reports, size as a string) -- shaped like tests/sdk/samples;
- Auth API: format B, Laravel (ms, Europe/Berlin wall clock, `data.metadata`, size as a string,
  request.ip the load balancer's);
- Shipping API: format B, treblle-node 3 (ms, America/Chicago wall clock, `data.metadata`).

More API keys than profiles reuse the profiles in turn, with hosts of their own.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import orjson

from core.demo.catalog import (
    CARRIERS,
    CITIES,
    EMAIL_DOMAINS,
    ERRORS,
    FIRST_NAMES,
    HEXCHARS,
    LAST_NAMES,
    PRODUCTS,
    WORD_A,
    address,
    masked,
    money,
    product,
    spread,
    table,
    token,
    uuid,
)

DEMO_APIS: list[tuple[str, str]] = [
    ("Payments API", "demo-payments-key"),
    ("Catalog API", "demo-catalog-key"),
    ("Auth API", "demo-auth-key"),
    ("Shipping API", "demo-shipping-key"),
]

# --- Endpoints -----------------------------------------------------------------------------------
# (method, route template, weight, median ms, sigma, 4xx rate, 5xx rate, public, request body
#  factory or None, response body factory, success status)


def _ids(g: random.Random, name: str) -> str:
    if name in ("order_id", "user_id", "product_id", "customer_id", "review_id"):
        return str(g.randint(1000, 999999))
    if name == "payment_id":
        return "pay_" + token(g, 14)
    if name == "invoice_id":
        return "in_" + token(g, 14)
    if name == "method_id":
        return "pm_" + token(g, 14)
    if name == "cart_id":
        return uuid(g)
    if name == "shipment_id":
        return "shp_" + token(g, 12, HEXCHARS)
    if name == "sku":
        return str(g.randint(10_000_000, 99_999_999))
    raise ValueError(name)


def _payments(g):
    def pay(status):
        return lambda g: {"id": "pay_" + token(g, 14), "object": "payment", "amount": money(g, 500, 90000),
                          "currency": g.choice(("usd", "eur", "gbp")), "status": status,
                          "customer": "cus_" + token(g, 6, HEXCHARS), "created": 1760000000 + g.randint(0, 30000000)}

    def order(g):
        items = [product(g) for _ in range(g.randint(1, 3))]
        return {"id": g.randint(100000, 999999), "status": g.choice(("paid", "pending", "shipped", "refunded")),
                "items": [{"product_id": i["id"], "name": i["name"], "quantity": g.randint(1, 3), "unit_price": i["price"]} for i in items],
                "total": sum(i["price"] for i in items), "currency": "usd"}

    return (
        ("POST", "/api/payments", 14, 180, 0.45, 0.07, 0.015, False,
         lambda g: {"amount": money(g, 500, 90000), "currency": "usd", "payment_method": "pm_" + token(g, 14),
                    "description": f"Order #{g.randint(100000, 999999)}", "capture": g.random() < 0.5},
         pay("requires_capture"), 201),
        ("GET", "/api/payments/{payment_id}", 18, 45, 0.4, 0.05, 0.006, False, None, pay("succeeded"), 200),
        ("POST", "/api/payments/{payment_id}/capture", 6, 220, 0.5, 0.06, 0.02, False, lambda g: {"amount_to_capture": money(g, 500, 90000)},
         pay("succeeded"), 200),
        ("POST", "/api/refunds", 3, 160, 0.5, 0.08, 0.015, False,
         lambda g: {"payment": "pay_" + token(g, 14), "amount": money(g, 500, 20000), "reason": g.choice(("requested_by_customer", "duplicate", "fraudulent"))},
         lambda g: {"id": "re_" + token(g, 14), "status": "pending"}, 201),
        ("POST", "/api/payment-methods", 4, 130, 0.4, 0.09, 0.01, False,
         lambda g: {"type": "card", "card_number": masked(g), "ccv": "***", "exp_month": g.randint(1, 12), "exp_year": g.randint(2027, 2032),
                    "billing_details": {"name": f"{g.choice(FIRST_NAMES)} {g.choice(LAST_NAMES)}", "address": address(g)}},
         lambda g: {"id": "pm_" + token(g, 14), "type": "card", "card": {"brand": g.choice(("visa", "mastercard", "amex")), "last4": f"{g.randint(0, 9999):04d}"}}, 201),
        ("DELETE", "/api/payment-methods/{method_id}", 1, 60, 0.4, 0.1, 0.005, False, None, None, 204),
        ("GET", "/api/customers/{customer_id}/invoices", 8, 90, 0.5, 0.04, 0.008, False, None,
         lambda g: {"data": [{"id": "in_" + token(g, 14), "amount_due": money(g, 900, 50000), "status": g.choice(("paid", "open", "void"))}
                             for _ in range(g.randint(0, 4))], "has_more": g.random() < 0.2}, 200),
        ("GET", "/api/invoices/{invoice_id}", 7, 40, 0.4, 0.05, 0.005, False, None,
         lambda g: {"id": "in_" + token(g, 14), "amount_due": money(g, 900, 50000), "currency": "usd", "status": "paid", "lines": 2}, 200),
        ("GET", "/api/balance", 9, 28, 0.35, 0.02, 0.004, False, None,
         lambda g: {"available": [{"amount": g.randint(0, 9_000_000), "currency": "usd"}], "pending": [{"amount": g.randint(0, 900_000), "currency": "usd"}]}, 200),
        ("GET", "/api/orders", 8, 120, 0.55, 0.03, 0.008, False, None,
         lambda g: {"results": [order(g) for _ in range(g.randint(1, 3))], "next": None}, 200),
        ("GET", "/api/orders/{order_id}", 12, 55, 0.45, 0.06, 0.006, False, None, order, 200),
        ("POST", "/api/orders", 6, 210, 0.5, 0.08, 0.015, False,
         lambda g: {"items": [{"product_id": g.randint(1000, 48000), "quantity": g.randint(1, 4)} for _ in range(g.randint(1, 3))],
                    "shipping_address": address(g), "coupon": g.choice((None, "WELCOME10", "SPRING25"))},
         order, 201),
    )


def _catalog(g):
    return (
        ("GET", "/v1/products", 24, 80, 0.5, 0.02, 0.006, False, None,
         lambda g: {"data": [product(g) for _ in range(g.randint(2, 4))], "page": g.randint(1, 20), "per_page": 50, "total": g.randint(200, 40000)}, 200),
        ("GET", "/v1/products/{product_id}", 30, 22, 0.45, 0.06, 0.004, False, None,
         lambda g: {**product(g), "in_stock": g.random() < 0.85, "rating": round(g.uniform(3.1, 4.9), 1)}, 200),
        ("GET", "/v1/products/{product_id}/reviews", 7, 60, 0.5, 0.03, 0.006, False, None,
         lambda g: {"data": [{"id": g.randint(1, 900000), "rating": g.randint(1, 5), "title": g.choice(("Great fit", "Does the job", "Arrived late", "Love it"))}
                             for _ in range(g.randint(0, 3))]}, 200),
        ("GET", "/v1/categories", 8, 12, 0.3, 0.005, 0.002, True, None,
         lambda g: {"data": sorted({p[2] for p in PRODUCTS})}, 200),
        ("GET", "/v1/search", 14, 140, 0.6, 0.03, 0.01, False, None,
         lambda g: {"hits": [product(g) for _ in range(g.randint(0, 3))], "took_ms": g.randint(4, 90)}, 200),
        ("POST", "/v1/carts", 5, 70, 0.4, 0.05, 0.01, False,
         lambda g: {"currency": "usd", "items": [{"product_id": g.randint(1000, 48000), "quantity": g.randint(1, 3)}]},
         lambda g: {"id": uuid(g), "items": 1, "subtotal": money(g, 900, 30000)}, 201),
        ("PUT", "/v1/carts/{cart_id}/items", 6, 65, 0.4, 0.07, 0.01, False,
         lambda g: {"product_id": g.randint(1000, 48000), "quantity": g.randint(1, 5)},
         lambda g: {"id": uuid(g), "items": g.randint(1, 6), "subtotal": money(g, 900, 90000)}, 200),
        ("GET", "/v1/inventory/{sku}", 4, 35, 0.4, 0.05, 0.008, False, None,
         lambda g: {"available": g.randint(0, 500), "reserved": g.randint(0, 40), "warehouse": g.choice(("FRA1", "NYC2", "SIN1"))}, 200),
    )


def _auth(g):
    user = lambda g: {"id": g.randint(1000, 999999), "email": f"{g.choice(FIRST_NAMES).lower()}@{g.choice(WORD_A).lower()}.io",  # noqa: E731
                      "name": f"{g.choice(FIRST_NAMES)} {g.choice(LAST_NAMES)}", "roles": g.choice((["user"], ["admin"], ["user", "billing"]))}
    tokens = lambda g: {"token_type": "Bearer", "expires_in": 3600, "access_token": "eyJ" + token(g, 40), "refresh_token": "def50200" + token(g, 30)}  # noqa: E731
    return (
        ("POST", "/oauth/token", 30, 95, 0.4, 0.05, 0.008, False,
         lambda g: {"grant_type": "client_credentials", "client_id": token(g, 20), "client_secret": "cs_live_" + token(g, 32), "scope": "read write"},
         tokens, 200),
        ("POST", "/auth/login", 12, 240, 0.35, 0.14, 0.008, True,
         lambda g: {"email": f"{g.choice(FIRST_NAMES).lower()}.{g.choice(LAST_NAMES).lower()}@{g.choice(EMAIL_DOMAINS)}", "password": masked(g), "remember": g.random() < 0.4},
         lambda g: {**tokens(g), "user": user(g)}, 200),
        ("POST", "/auth/refresh", 14, 40, 0.35, 0.06, 0.005, True, lambda g: {"refresh_token": "def50200" + token(g, 30)}, tokens, 200),
        ("POST", "/auth/logout", 3, 18, 0.3, 0.02, 0.003, False, None, None, 204),
        ("GET", "/api/users/me", 20, 20, 0.35, 0.04, 0.004, False, None, user, 200),
        ("POST", "/api/users", 3, 310, 0.35, 0.12, 0.01, True,
         lambda g: {"name": f"{g.choice(FIRST_NAMES)} {g.choice(LAST_NAMES)}", "email": f"{g.choice(FIRST_NAMES).lower()}@{g.choice(EMAIL_DOMAINS)}",
                    "password": (pw := masked(g)), "password_confirmation": pw, "terms": True},
         user, 201),
        ("PATCH", "/api/users/{user_id}", 4, 60, 0.4, 0.08, 0.006, False,
         lambda g: {"name": f"{g.choice(FIRST_NAMES)} {g.choice(LAST_NAMES)}", "locale": g.choice(("en", "de", "fr", "pt-BR", "ja"))}, user, 200),
        ("GET", "/.well-known/jwks.json", 8, 4, 0.3, 0.0, 0.001, True, None,
         lambda g: {"keys": [{"kty": "RSA", "kid": token(g, 12), "use": "sig", "alg": "RS256", "e": "AQAB"}]}, 200),
        ("POST", "/auth/password/reset", 1, 150, 0.4, 0.1, 0.01, True,
         lambda g: {"email": f"{g.choice(FIRST_NAMES).lower()}@{g.choice(EMAIL_DOMAINS)}"}, lambda g: {"message": "If the account exists, we sent an e-mail."}, 200),
    )


def _shipping(g):
    shipment = lambda g: {"id": "shp_" + token(g, 12, HEXCHARS), "carrier": g.choice(CARRIERS), "service": g.choice(("ground", "express", "economy")),  # noqa: E731
                          "status": g.choice(("label_created", "in_transit", "out_for_delivery", "delivered")),
                          "to": address(g), "tracking_number": "1Z" + token(g, 16).upper()}
    parcel = lambda g: {"weight_g": g.randint(100, 20000), "length_cm": g.randint(10, 80), "width_cm": g.randint(10, 60), "height_cm": g.randint(2, 50)}  # noqa: E731
    return (
        ("POST", "/api/v2/shipments", 10, 350, 0.45, 0.08, 0.015, False,
         lambda g: {"from": address(g), "to": address(g), "parcel": parcel(g), "reference": f"ORD-{g.randint(100000, 999999)}"}, shipment, 201),
        ("GET", "/api/v2/shipments/{shipment_id}", 15, 50, 0.4, 0.05, 0.006, False, None, shipment, 200),
        ("GET", "/api/v2/shipments/{shipment_id}/tracking", 25, 70, 0.5, 0.04, 0.01, False, None,
         lambda g: {"status": g.choice(("in_transit", "delivered", "exception")), "events": [
             {"time": f"2026-11-{g.randint(10, 28)}T{g.randint(0, 23):02d}:{g.randint(0, 59):02d}:00Z", "location": g.choice(CITIES)[0],
              "description": g.choice(("Departed facility", "Arrived at facility", "Out for delivery", "Delivered"))} for _ in range(g.randint(1, 3))]}, 200),
        ("POST", "/api/v2/rates", 20, 620, 0.5, 0.06, 0.02, False,
         lambda g: {"from": address(g), "to": address(g), "parcel": parcel(g)},
         lambda g: {"rates": [{"carrier": c, "amount": money(g, 500, 9000), "currency": "usd", "days": g.randint(1, 7)} for c in g.sample(CARRIERS, 3)]}, 200),
        ("POST", "/api/v2/labels", 8, 900, 0.45, 0.05, 0.02, False,
         lambda g: {"shipment": "shp_" + token(g, 12, HEXCHARS), "format": g.choice(("pdf", "zpl", "png"))},
         lambda g: {"label_url": f"https://labels.example.com/{token(g, 24)}.pdf", "tracking_number": "1Z" + token(g, 16).upper()}, 201),
        ("GET", "/api/v2/pickups", 4, 85, 0.4, 0.03, 0.006, False, None,
         lambda g: {"pickups": [{"date": f"2026-11-{g.randint(10, 28)}", "window": "09:00-12:00", "carrier": g.choice(CARRIERS)}]}, 200),
        ("DELETE", "/api/v2/shipments/{shipment_id}", 2, 120, 0.4, 0.15, 0.01, False, None, None, 204),
        ("GET", "/api/v2/addresses/validate", 6, 140, 0.5, 0.1, 0.01, False, None,
         lambda g: {"valid": g.random() < 0.9, "normalized": address(g)}, 200),
    )


_QUERIES = {  # query strings of GET routes
    "/api/orders": lambda g: {"status": g.choice(("paid", "pending", "shipped")), "limit": g.choice(("20", "50", "100"))},
    "/api/customers/{customer_id}/invoices": lambda g: {"status": g.choice(("open", "paid")), "limit": "10"},
    "/v1/products": lambda g: {"page": str(g.randint(1, 20)), "per_page": "50", "category": g.choice([p[2] for p in PRODUCTS])},
    "/v1/search": lambda g: {"q": g.choice(("running shoes", "headphones", "desk", "wool socks", "tent", "usb-c charger")), "limit": "20"},
    "/api/v2/pickups": lambda g: {"date": f"2026-11-{g.randint(10, 28)}", "carrier": g.choice(CARRIERS)},
    "/api/v2/addresses/validate": lambda g: (lambda city: {"postal_code": city[2], "country": city[1]})(g.choice(CITIES)),
}

# (name, sdk, wire format, server timezone, host, server software, language, share of calls through a proxy,
#  endpoint table)
_PROFILES = (
    ("payments", "django", "A", "America/New_York", "api.payments.example.com", "gunicorn/23.0.0", ("python", "3.12.7"), 0.9, _payments),
    ("catalog", "express", "A", "Europe/Amsterdam", "catalog.example.com", "node/22.11.0", ("node", "22.11.0"), 1.0, _catalog),
    ("auth", "laravel", "B", "Europe/Berlin", "auth.example.com", "nginx/1.27.3", ("php", "8.3.14"), 0.5, _auth),
    ("shipping", "node", "B", "America/Chicago", "api.shipping.example.com", "node/20.18.1", ("node", "20.18.1"), 0.3, _shipping),
)
_SDK_VERSIONS: dict[str, Any] = {"django": 20, "express": "1.0.2", "laravel": "6.0.1", "node": "3.1.0"}  # as sent
_API_POPULARITY = (0.28, 0.34, 0.18, 0.20)
POOL_BITS = 5
_POOL = 1 << POOL_BITS  # variants per endpoint: paths, queries, bodies
PICK_BITS = 10  # weighted choices (endpoints, status codes) through a table of 2**PICK_BITS entries
LT_TABLE = 512  # load-time draws per endpoint

# --- Build ---------------------------------------------------------------------------------------


class Endpoint:
    """One endpoint of a demo API, with what its calls look like."""

    __slots__ = ("lt", "method", "paths", "queries", "req_bodies", "resp_bodies", "median", "sigma", "p4", "p5", "public", "ok",
                 "has_body")


class Api:
    """One demo API, set up for a run: its SDK profile, endpoints and incidents."""

    __slots__ = ("key", "sdk", "format_b", "version", "sdk_token", "style", "tz", "host", "server", "language", "proxy",
                 "endpoints", "ep_table", "public_table", "prefixes", "incidents", "errors", "lb_ips", "cookies",
                 "route_paths", "digits", "express", "ip_from_xff", "query_dict", "size_text", "empty_body", "unit",
                 "popularity")


def build_api(g: random.Random, key: str, index: int, slot_hours: list[int]) -> Api:
    """The API behind `key` for a run whose hour slots start at `slot_hours` (UTC): the `index`-th
    profile (in turn), its endpoints with their pools of variants, its server's wall-clock hour per
    slot and its incidents."""
    name, sdk, fmt, tz, host, software, (lang, lang_version), proxy, factory = _PROFILES[index % len(_PROFILES)]
    api = Api()
    api.key, api.sdk, api.format_b, api.tz, api.proxy = key, sdk, fmt == "B", tz, proxy
    api.popularity = _API_POPULARITY[index % len(_API_POPULARITY)]
    api.host = host if index < len(_PROFILES) else f"{name}-{index // len(_PROFILES) + 1}.example.com"
    api.sdk_token = "tk_" + token(g, 32)
    api.unit = 1000.0 if sdk == "express" else 1.0  # @treblle/express sends microseconds
    api.size_text = sdk in ("laravel", "express")  # they send the size as a string
    api.empty_body = True if sdk in ("django", "laravel") else None  # they send {} for a request without a body
    api.version = _SDK_VERSIONS[sdk]
    api.style = sdk
    api.route_paths = sdk in ("django", "laravel")
    if sdk == "express":  # as @treblle/express 1.x reports its server
        api.server = {"timezone": tz, "os": {"name": "linux", "release": "6.8.0-1019-aws", "architecture": "x64"},
                      "software": None, "signature": None, "protocol": "http/1.1"}
        api.language = {"name": lang, "version": "v" + lang_version}
    else:
        api.server = {"ip": f"10.0.{g.randint(1, 30)}.{g.randint(2, 250)}", "timezone": tz, "software": software, "signature": "",
                      "protocol": "HTTP/1.1", "os": {"name": "Linux", "release": "6.8.0-1019-aws", "architecture": "x86_64"}}
        api.language = {"name": lang, "version": lang_version}
    # The Django SDK and @treblle/express report the first X-Forwarded-For address as request.ip;
    # Laravel and plain Node apps without a trusted-proxy setting report the load balancer.
    api.ip_from_xff = sdk in ("django", "express")
    api.query_dict = sdk == "django"  # Django: the URL without its query, which comes as a dict
    api.express = sdk == "express"
    api.digits = 3 if sdk == "express" else 2  # load_time as rounded by the SDK
    api.lb_ips = [f"10.{g.randint(0, 3)}.{g.randint(0, 255)}.{g.randint(2, 254)}" for _ in range(6)] + \
                 [f"172.{g.randint(16, 31)}.{g.randint(0, 255)}.{g.randint(2, 254)}" for _ in range(2)]
    api.cookies = [f"XSRF-TOKEN={token(g, 40)}; path=/; secure, laravel_session={token(g, 40)}; path=/; secure; httponly"
                   for _ in range(8)] if sdk == "laravel" else None
    api.errors = spread([[{"source": "onException", "type": t, "message": m, "file": f, "line": ln}] for t, m, f, ln in ERRORS[sdk]], 2)

    normals = [g.gauss(0.0, 1.0) for _ in range(LT_TABLE)]
    rows = factory(g)
    api.endpoints = [_endpoint(g, api, row, normals) for row in rows]
    api.ep_table = table(api.endpoints, [row[2] for row in rows], PICK_BITS)
    public = [ep for ep in api.endpoints if ep.public or ep.method == "GET"]
    api.public_table = table(public, [1] * len(public), 4)
    # Timestamps: the server's wall clock (UTC for the JavaScript format A SDKs) per hour slot.
    api.prefixes = _hour_prefixes(ZoneInfo("UTC") if sdk == "express" else ZoneInfo(tz), slot_hours)
    api.incidents = _incidents(g, len(slot_hours))
    return api


def _endpoint(g: random.Random, api: Api, row: tuple, normals: list[float]) -> Endpoint:
    """One row of an endpoint table with its pools of paths, queries and bodies drawn."""
    method, route, _weight, median, sigma, p4, p5, public, req, resp, ok = row
    ep = Endpoint()
    ep.method, ep.median, ep.sigma, ep.p4, ep.p5, ep.public, ep.ok = method, median, sigma, p4, p5, public, ok
    ep.has_body = req is not None
    # Load times: a table of log-normal draws in the SDK's unit, rounded as the SDK does.
    shift = int(g.random() * LT_TABLE)
    zs = normals[shift:] + normals[:shift]
    scale = median * api.unit
    ep.lt = [round(scale * math.exp(sigma * z), api.digits) for z in zs]
    names = [part[1:-1] for part in route.split("/") if part.startswith("{")]
    ep.paths = []
    for _ in range(_POOL):
        path = route
        for n in names:
            path = path.replace("{" + n + "}", _ids(g, n), 1)
        ep.paths.append((path, route.lstrip("/") if api.route_paths else None))
    qf = _QUERIES.get(route) if method == "GET" else None
    ep.queries = None
    if qf:
        ep.queries = []
        for _ in range(_POOL):
            q = qf(g)
            ep.queries.append(("&".join(f"{k}={quote(v, safe='')}" for k, v in q.items()), q))
    ep.req_bodies = [req(g) for _ in range(_POOL)] if req else None
    ep.resp_bodies = []
    for _ in range(_POOL):
        body = resp(g) if resp else None
        ep.resp_bodies.append((body, len(orjson.dumps(body)) if body is not None else 0))
    return ep


def _hour_prefixes(zone: tzinfo, slot_hours: list[int]) -> list[str]:
    """`YYYY-MM-DD HH:` of each slot's hour on the server's wall clock."""
    days: dict[int, str] = {}
    prefixes = []
    for h in slot_hours:
        local = datetime.fromtimestamp(h, zone)
        day = days.get(local.toordinal()) or days.setdefault(local.toordinal(), local.strftime("%Y-%m-%d "))
        prefixes.append(f"{day}{local.hour:02d}:")
        if local.minute or local.second:
            raise ValueError(f"{zone}: the demo's server zones must be whole hours from UTC")
    return prefixes


def _incidents(g: random.Random, slots: int) -> set[int]:
    """The slots of one or two short outages per 30 days, with 5xx and slow calls."""
    incidents: set[int] = set()
    for _ in range(max(1, round(slots / 720 * g.choice((1, 1, 2))))):
        start = g.randrange(0, max(1, slots - 3))
        incidents.update(range(start, min(slots, start + g.randint(1, 3))))
    return incidents

"""`demo_payloads`: the demo's requests, one Treblle payload each, exactly as the SDKs send them.

Each payload picks a caller (~10% unidentified), a slot in the caller's rhythm, an API and an
endpoint variant, then draws its threats (injection attempts, calls without authorization, some
plain HTTP), its outcome (4xx/5xx with `errors[]`, log-normal load times with slow outliers and
incidents) and carries the customer id every way the design lists.

Everything is drawn from one `random.Random(seed)`: the same arguments give the same payloads.
Wall-clock timestamps in the hour a server's clock falls back (DST end) are ambiguous, as with the
real SDKs; Footfall reads them as the first of the two hours.
Speed: the per-customer, per-endpoint and per-hour work is done once up front; a payload costs a
few dict literals and ~20 random draws. Bodies, error entries and `server`/`language` objects
are shared between payloads: treat payloads as read-only (or copy what you change).
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Iterator
from urllib.parse import parse_qsl

import orjson

from core.demo.apis import LT_TABLE, PICK_BITS, POOL_BITS, Api, Endpoint, build_api
from core.demo.catalog import AI_AGENT_UAS, ASSISTANT_UAS, ATTACKS, CODE_4XX, CODE_5XX, MESSAGES, SCANNER_UAS, spread, table
from core.demo.population import Caller, Population, Slots

UNIDENTIFIED_SHARE = 0.10
AI_SHARE_IDENTIFIED = 0.025  # assistants acting for a customer (ChatGPT-User, Claude-User, ...)
AI_SHARE_UNIDENTIFIED = 0.12  # crawlers (GPTBot, ClaudeBot, ...)
ATTACK_SHARE = 0.015
PLAIN_HTTP_SHARE = 0.012
MISSING_AUTH_SHARE = 0.015
CLIENT_ERROR_SCALE = 0.65  # on the endpoints' 4xx rates; missing credentials and attacks add their own

_LT_BITS = LT_TABLE.bit_length() - 1
_BIT64 = 1 << 64
_MMSS = [f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)]


def demo_payloads(api_keys: list[str], count: int, *, seed: int = 7, now: float, days: int = 30) -> Iterator[dict]:
    """`count` Treblle payloads for the given API keys, spread over the `days` days up to `now`."""
    if not api_keys:
        raise ValueError("demo_payloads needs at least one API key")
    if count <= 0:
        return
    # The order of these steps is the order of the draws: changing it changes every payload.
    g = random.Random(seed)
    slots = Slots(g, now, days)
    apis = [build_api(g, key, i, slots.hour) for i, key in enumerate(api_keys)]
    run = _Run(g, slots, apis, Population(g, slots, apis, count))
    for _ in range(count):
        yield run.payload()


class _Run:
    """A run's callers and draw tables, and the drawing of one payload from them."""

    def __init__(self, g: random.Random, slots: Slots, apis: list[Api], population: Population):
        self.r, self.bits = g.random, g.getrandbits
        self.slot_start, self.slot_len = slots.start, slots.length
        self.customers, self.visitors = population.customers, population.visitors
        self.zipf, self.zipf_total = population.zipf, population.zipf[-1]
        # Weighted choices as `table[getrandbits(bits)]`.
        self.code4 = table([c for c, _ in CODE_4XX], [w for _, w in CODE_4XX], PICK_BITS)
        self.code5 = table([c for c, _ in CODE_5XX], [w for _, w in CODE_5XX], PICK_BITS)
        self.attack_codes = spread((400, 403, 404, 422, 500), 3)
        self.ai = spread(AI_AGENT_UAS, 4)
        self.assistants = spread(ASSISTANT_UAS, 3)
        self.attacks = spread([((q, dict(parse_qsl(q, keep_blank_values=True))) if q else None, b) for q, b in ATTACKS], 4)
        self.scanners = spread(SCANNER_UAS, 2)
        self.error_bodies: dict[str, dict[int, tuple[dict, int]]] = {}  # style -> code -> (body, size)
        for api in apis:
            bodies = {code: _error_body(api.style, code) for code in MESSAGES}
            self.error_bodies[api.style] = {code: (body, len(orjson.dumps(body))) for code, body in bodies.items()}

    def payload(self) -> dict:
        """The next payload: who calls, when, what; how it ends; as the caller's SDK sends it."""
        r, bits = self.r, self.bits
        anonymous = r() < UNIDENTIFIED_SHARE
        c = self.visitors[bits(7)] if anonymous else self.customers[bisect_right(self.zipf, r() * self.zipf_total)]
        api = c.apis[bits(4)]
        k = bisect_right(c.cum, c.lo + r() * c.span)
        if k > c.last:
            k = c.last
        t = self.slot_start[k] + int(r() * self.slot_len[k])

        ep = api.public_table[bits(4)] if anonymous and r() < 0.6 else api.ep_table[bits(PICK_BITS)]
        path, route = ep.paths[bits(POOL_BITS)]
        qs = ep.queries[bits(POOL_BITS)] if ep.queries is not None else None
        req_body = ep.req_bodies[bits(POOL_BITS)] if ep.has_body else None

        # Who is calling: user agent, address.
        u = r()
        if anonymous:
            ua = self.ai[bits(4)] if u < AI_SHARE_UNIDENTIFIED else c.uas[0]
        else:
            ua = self.assistants[bits(3)] if u < AI_SHARE_IDENTIFIED else c.uas[bits(4)]
        client = c.ips[bits(4)]

        # Threats: injections, plain HTTP, missing credentials.
        scheme = "https://"
        u = r()
        attack = u < ATTACK_SHARE
        if attack:
            aq, ab = self.attacks[bits(4)]
            if aq is not None:
                qs = aq
            else:
                req_body = ab
            if u < ATTACK_SHARE / 2:
                ua = self.scanners[bits(2)]
        elif u < ATTACK_SHARE + PLAIN_HTTP_SHARE:
            scheme = "http://"
        auth = c.auth
        if ep.public:
            if r() < 0.85:
                auth = None
        elif auth is not None and r() < MISSING_AUTH_SHARE:
            auth = None

        status, resp_body, size, errors, load_time = self._outcome(c, api, ep, k, auth, attack)
        rid = hex(bits(64) | _BIT64)[3:]
        request = self._request(c, api, ep, k, t, rid, ua, client, auth, scheme, path, route, qs, req_body)
        response = _response(api, ep, t, rid, status, size, load_time, resp_body)
        return _envelope(c, api, request, response, errors)

    def _outcome(self, c: Caller, api: Api, ep: Endpoint, k: int, auth: tuple | None, attack: bool) -> tuple:
        """(status, response body, its size, errors[], load time in the SDK's unit) of a call in slot `k`."""
        r, bits = self.r, self.bits
        incident = k in api.incidents
        u = r()
        m = c.err
        p5 = ep.p5 * m * (15 if incident else 1)
        if auth is None and not ep.public and u < 0.85:
            status = 401
        elif attack and u < 0.7:
            status = self.attack_codes[bits(3)]
        elif u < p5:
            status = self.code5[bits(PICK_BITS)]
        elif u < p5 + ep.p4 * m * CLIENT_ERROR_SCALE:
            status = self.code4[bits(PICK_BITS)]
        else:
            status = ep.ok
        if status < 400:
            resp_body, size = ep.resp_bodies[bits(POOL_BITS)]
            errors = []
        else:
            resp_body, size = self.error_bodies[api.style][status]
            errors = api.errors[bits(2)] if status >= 500 else []

        # Load time: log-normal per endpoint, slow outliers, timeouts.
        u = r()
        load_time = ep.lt[bits(_LT_BITS)]
        if status >= 400 or incident or u < 0.01:
            if status == 504:
                load_time = round((30000 + u * 500) * api.unit, api.digits)
            elif incident:
                load_time = round(load_time * 3, api.digits)
            elif u < 0.01:
                load_time = round(load_time * (5 + u * 3500), api.digits)
            elif status in (401, 404, 429):
                load_time = round(load_time * 0.3, api.digits)
        return status, resp_body, size, errors, load_time

    def _request(self, c: Caller, api: Api, ep: Endpoint, k: int, t: int, rid: str, ua: str, client: str,
                 auth: tuple | None, scheme: str, path: str, route: str | None, qs: tuple | None, body: dict | None) -> dict:
        """`data.request` as the API's SDK reports it, behind a proxy or not."""
        headers = {"host": api.host, "user-agent": ua, "accept": "application/json", "accept-encoding": "gzip, deflate, br",
                   "x-request-id": rid}
        if auth is not None:
            headers[auth[0]] = auth[1]
        if c.lang is not None:
            headers["accept-language"] = c.lang
        if body is not None:
            headers["content-type"] = "application/json"
        if self.r() < api.proxy:
            headers["x-forwarded-for"] = client if t & 7 else f"{client}, 172.70.{k & 255}.{(t >> 3) % 254 + 1}"
            headers["x-forwarded-proto"] = "https" if scheme == "https://" else "http"
            ip = client if api.ip_from_xff else api.lb_ips[t & 7]
        else:
            ip = client
        url = scheme + api.host + path
        if qs is not None and not api.query_dict:
            url += "?" + qs[0]
        if body is None and api.empty_body is not None:
            body = {}
        request = {
            "timestamp": api.prefixes[k] + _MMSS[t % 3600],
            "ip": ip,
            "url": url,
            "user_agent": ua,
            "method": ep.method,
            "headers": headers,
            "body": body,
        }
        if api.query_dict:
            request["query"] = qs[1] if qs is not None else {}
        if route is not None:
            request["route_path"] = route
        return request


def _response(api: Api, ep: Endpoint, t: int, rid: str, status: int, size: int, load_time: float, body: dict | None) -> dict:
    """`data.response` as the API's SDK reports it, with the headers its framework adds."""
    headers = {"content-type": "application/json", "x-request-id": rid, "cache-control": "no-store"}
    if status == 429:
        headers["retry-after"] = "30"
    if api.cookies is not None:
        headers["set-cookie"] = api.cookies[t & 7]
    elif api.express:
        headers["x-powered-by"] = "Express"
        headers["content-length"] = str(size)
        if status == 200 and ep.method == "GET":
            headers["etag"] = f'W/"{size:x}-{rid[:12]}"'
    return {
        "headers": headers,
        "code": status,
        "size": str(size) if api.size_text else size,
        "load_time": load_time,
        "body": body,
    }


def _envelope(c: Caller, api: Api, request: dict, response: dict, errors: list) -> dict:
    """The payload in the API's wire format, the customer id where the SDK carries it."""
    metadata = None
    if c.cid is not None:
        mode = c.mode_b if api.format_b else c.mode_a
        if mode == 0:
            if api.format_b:
                metadata = c.meta
            else:
                request["headers"]["treblle-metadata"] = c.meta_json
        elif mode == 1:
            response["headers"]["treblle-metadata"] = c.meta_json
        elif mode == 2:
            request["headers"]["treblle-user-id"] = c.cid
        else:
            response["headers"]["treblle-user-id"] = c.cid
    data = {"server": api.server, "language": api.language, "request": request, "response": response, "errors": errors}
    if api.format_b:
        data["metadata"] = metadata if metadata is not None else {}
        return {"sdk_token": api.sdk_token, "api_key": api.key, "version": api.version, "sdk": api.sdk, "data": data}
    return {"api_key": api.sdk_token, "project_id": api.key, "version": api.version, "sdk": api.sdk, "data": data}


def _error_body(style: str, code: int) -> dict:
    """The body an API of this SDK style answers an error `code` with."""
    name, message = MESSAGES[code]
    if style == "django":
        return {"detail": message}
    if style == "laravel":
        if code == 422:
            return {"message": message, "errors": {"email": ["The email field is required."]}}
        return {"message": "Unauthenticated." if code == 401 else message}
    return {"error": {"code": name, "message": message}}

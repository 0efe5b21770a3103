"""The demo's callers: Zipf-sized customers with names, home countries, join and churn dates and
their own daily and weekly rhythm, and the unidentified visitors beside them.

Time is cut into hour slots (`Slots`); a caller's calls fall into slots in proportion to the
caller's slot weights, built once per (time zone, machine or human) and shared.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from typing import Any

import orjson

from core.demo.apis import Api
from core.demo.catalog import (
    ACCEPT_LANGUAGE,
    COMPANY_SUFFIX,
    COUNTRIES,
    DESKTOP_UAS,
    DEV_TOOL_UAS,
    EMAIL_DOMAINS,
    FAMOUS_COMPANIES,
    FIRST_NAMES,
    HEXCHARS,
    LAST_NAMES,
    MOBILE_UAS,
    PLANS,
    SERVER_CLIENT_UAS,
    TABLET_UAS,
    WORD_A,
    WORD_B,
    WORD_C,
    cumulative,
    spread,
    token,
)

ZIPF_EXPONENT = 1.05
VISITORS = 128  # unidentified callers, picked with 7 random bits
# Customers who drift away in the window's last week (gone quiet: dropped) and one who stops
# calling four days before its end (silent), by size rank; only in windows of five weeks or more.
FADING_RANKS, FADING_FACTOR, SILENT_RANK = (4, 8), 0.15, 6
LAST_WEEK_SLOTS = 7 * 24


def customer_count(count: int) -> int:
    """How many customers a demo of `count` requests has: ~300 per 10k requests, growing more
    slowly than the traffic (the same customers keep calling), between 8 and 50,000."""
    return max(8, min(50_000, round(300 * (max(count, 1) / 10_000) ** 0.75)))


# --- Rhythm --------------------------------------------------------------------------------------

_HUMAN = (0.10, 0.07, 0.05, 0.05, 0.06, 0.10, 0.20, 0.40, 0.75, 1.0, 1.0, 1.0,
          0.85, 0.95, 1.0, 1.0, 0.95, 0.80, 0.55, 0.40, 0.32, 0.25, 0.18, 0.13)
_MACHINE = tuple(0.55 + 0.45 * w for w in _HUMAN[:2]) + (1.4,) + tuple(0.55 + 0.45 * w for w in _HUMAN[3:])  # nightly batch at 02:00


class Slots:
    """The window's hour slots: UTC hours clipped to [now - days, now], each with its start, length,
    UTC hour, midpoint, the noise of its day and the traffic's slow growth."""

    def __init__(self, g: random.Random, now: float, days: float):
        end = int(now)
        start = end - int(days * 86400) + 1
        self.start: list[int] = []
        self.length: list[int] = []
        self.hour: list[int] = []
        self.mid: list[float] = []
        h = start // 3600 * 3600
        while h <= end:
            s, e = max(h, start), min(h + 3599, end)
            self.start.append(s)
            self.length.append(e - s + 1)
            self.hour.append(h)
            self.mid.append((s + e) / 2)
            h += 3600
        n = len(self.start)
        # setdefault draws a gauss for every slot and keeps each day's first: every later draw depends on it.
        day_noise: dict[int, float] = {}
        self.day_factor = [day_noise.setdefault(int(m // 86400), max(0.5, g.gauss(1.0, 0.12))) for m in self.mid]
        self.growth = [0.85 + 0.3 * i / max(1, n - 1) for i in range(n)]
        self._weights: dict[tuple[float, bool], list[float]] = {}

    def __len__(self) -> int:
        return len(self.start)

    def weights(self, offset_hours: float, machine: bool) -> list[float]:
        """The share of a caller's calls in each slot, for a home `offset_hours` from UTC (cached)."""
        key = (offset_hours, machine)
        if key not in self._weights:
            self._weights[key] = _slot_weights(offset_hours, machine, self)
        return self._weights[key]


def _slot_weights(offset_hours: float, machine: bool, slots: Slots) -> list[float]:
    offset = offset_hours * 3600
    curve = _MACHINE if machine else _HUMAN
    weekend = 0.7 if machine else 0.3
    weights = []
    for i, mid in enumerate(slots.mid):
        local = mid + offset
        day = int(local // 86400)
        w = curve[int(local % 86400 // 3600)] * (weekend if (day + 3) % 7 >= 5 else 1.0)
        weights.append(w * slots.day_factor[i] * slots.growth[i] * slots.length[i] / 3600)
    return weights


# --- Callers -------------------------------------------------------------------------------------


class Caller:
    """A customer (or, with `cid` None, a visitor): what stays the same from call to call. `cum`, `lo`,
    `span` and `last` pick the slot; `apis`, `uas` and `ips` hold 16 entries each, in proportion."""

    __slots__ = ("cid", "cum", "lo", "span", "last", "apis", "uas", "ips", "auth", "mode_a", "mode_b", "meta", "meta_json",
                 "err", "lang")


class Population:
    """Everyone who calls during a run: `customers`, biggest first, picked by `zipf` (cumulative),
    and the unidentified `visitors`. Drawn from `g` once, up front, in a fixed order."""

    def __init__(self, g: random.Random, slots: Slots, apis: list[Api], count: int):
        self._g, self._r = g, g.random
        self._slots, self._apis = slots, apis
        self._popularity = cumulative([api.popularity for api in apis])
        self._cum_cache: dict[tuple[float, bool], list[float]] = {}
        self._codes = list(COUNTRIES)
        self._country_cum = cumulative([COUNTRIES[c][1] for c in self._codes])
        self._big_market_cum = cumulative([COUNTRIES[c][1] ** 2 for c in self._codes])
        self._used_ids: set[str] = set()
        self._used_names: set[str] = set()
        n = customer_count(count)
        self._famous = list(FAMOUS_COMPANIES)
        g.shuffle(self._famous)
        self.customers = [self._customer(rank) for rank in range(n)]
        self.zipf = cumulative([1 / (k + 1) ** ZIPF_EXPONENT for k in range(n)])
        visitor_cum = cumulative(slots.weights(0, False))
        self.visitors = [self._visitor(visitor_cum) for _ in range(VISITORS)]

    # Small draws through `random()`: `choice` and `randint` would consume other bits and change the output.

    def _pick(self, seq):
        return seq[int(self._r() * len(seq))]

    def _randint(self, a: int, b: int) -> int:
        return a + int(self._r() * (b - a + 1))

    def _country(self, big_market: bool = False) -> str:
        """A home country; big customers come mostly from the biggest markets."""
        cum = self._big_market_cum if big_market else self._country_cum
        return self._codes[bisect_right(cum, self._r() * cum[-1])]

    def _ips_of(self, cc: str, n: int) -> list[str]:
        prefixes = COUNTRIES[cc][2]
        return [f"{self._pick(prefixes)}.{self._randint(1, 254)}" for _ in range(n)]

    def _unique(self, value: str) -> str:
        while value in self._used_ids:
            n = self._randint(2, 999)
            local, at, domain = value.partition("@")
            value = f"{local}{n}@{domain}" if at else f"{value}{n}"
        self._used_ids.add(value)
        return value

    def _company_name(self, rank: int, cc: str) -> str:
        pick, r = self._pick, self._r
        if rank < len(self._famous) and r() < 0.8:
            return self._famous[rank]
        for _ in range(20):
            c = pick(WORD_C)
            name = f"{pick(WORD_A)} {pick(WORD_B)}" + (f" {c}" if c else "")
            if r() < 0.5:
                name += COMPANY_SUFFIX.get(cc, "")
            if name not in self._used_names:
                break
        self._used_names.add(name)
        return name

    # A customer, in the order of its draws.

    def _customer(self, rank: int) -> Caller:
        cc = self._country(big_market=rank < 10)
        c = Caller()
        person, name, kind = self._identity(c, rank, cc)
        machine = kind == "integration"
        self._schedule(c, rank, COUNTRIES[cc][0], machine)
        c.apis = self._apis_of(rank)
        c.uas = self._user_agents(rank, kind, name)
        c.lang = ACCEPT_LANGUAGE.get(cc, "en-US,en;q=0.9") if kind != "integration" else None
        c.ips = self._addresses(cc, machine)
        self._credentials(c, rank, name, person)
        return c

    def _identity(self, c: Caller, rank: int, cc: str) -> tuple[bool, str | None, str]:
        """Sets `c.cid`; returns whether it is a person, its display name (or None) and its kind of client."""
        pick, r, unique = self._pick, self._r, self._unique
        person = rank >= 10 and r() < 0.15
        u = r()
        if person:
            first, last = pick(FIRST_NAMES), pick(LAST_NAMES)
            name = f"{first} {last}" if r() < 0.85 else None
            if u < 0.6:
                slug = f"{first}.{last}".lower().replace("ü", "ue").replace("á", "a").replace("é", "e")
                cid = unique(f"{slug}@{pick(EMAIL_DOMAINS)}")
            else:
                cid = unique("usr_" + token(self._g, 8))
            kind = "mobile" if r() < 0.6 else "web"
        else:
            name = self._company_name(rank, cc)
            if u < 0.65:
                cid = unique("cus_" + token(self._g, 6, HEXCHARS))
            elif u < 0.85:
                domain = "".join(ch for ch in name.split(" ")[0].lower() if ch.isalnum()) + pick((".com", ".io", ".co", ".dev"))
                cid = unique(f"{pick(('api', 'dev', 'ops', 'integrations'))}@{domain}")
            else:
                cid = unique(f"acct_{self._randint(10000, 99999)}")
            if r() > 0.92:
                name = None  # no display name: the dashboard shows the id
            kind = ("integration", "web", "mobile")[bisect_right((0.5, 0.8), r())]
        c.cid = cid
        return person, name, kind

    def _schedule(self, c: Caller, rank: int, offset: float, machine: bool) -> None:
        """When `c` calls: its slot weights (bursts for the biggest), and a join or churn date."""
        r, randint, slots = self._r, self._randint, len(self._slots)
        weights = self._slots.weights(offset, machine)
        if rank < 12:  # big customers: their own bursts (a backfill, a launch, a retry storm)
            weights = list(weights)
            for _ in range(randint(1, 3)):
                b = int(r() * slots)
                factor = 3 + r() * 5
                for k in range(b, min(slots, b + randint(2, 8))):
                    weights[k] *= factor
            if rank in FADING_RANKS and slots > 5 * LAST_WEEK_SLOTS:  # drifting away: gone quiet shows them
                for k in range(slots - LAST_WEEK_SLOTS, slots):
                    weights[k] *= FADING_FACTOR
            c.cum = cumulative(weights)
        else:
            key = (offset, machine)
            if key not in self._cum_cache:
                self._cum_cache[key] = cumulative(weights)
            c.cum = self._cum_cache[key]
        first_slot, last_slot = 0, slots - 1
        if rank == SILENT_RANK and slots > 5 * LAST_WEEK_SLOTS:  # stopped calling four days ago
            last_slot = slots - 4 * 24 - 1
        if rank >= 20:
            if r() < 0.3:
                first_slot = int(r() * slots)  # a new customer, joined during the window
            if r() < 0.08:
                last_slot = randint(first_slot, slots - 1)  # churned
        c.lo = c.cum[first_slot - 1] if first_slot > 0 else 0.0
        c.span = c.cum[last_slot] - c.lo
        if c.span <= 0:
            c.lo, c.span, last_slot = 0.0, c.cum[-1], slots - 1
        c.last = last_slot

    def _apis_of(self, rank: int) -> list[Api]:
        """A primary API, the others with falling chance; big customers use more of them."""
        primary = bisect_right(self._popularity, self._r() * self._popularity[-1])
        chosen = [primary] * 6
        for i in range(len(self._apis)):
            if i != primary and self._r() < (0.6 if rank < 30 else 0.3):
                chosen += [i] * self._randint(1, 3)
        return spread([self._apis[i] for i in chosen], 4)

    def _user_agents(self, rank: int, kind: str, name: str | None) -> list[str]:
        """The clients this customer's traffic comes from (16, in proportion)."""
        pick, randint = self._pick, self._randint
        if kind == "integration":
            main = pick(SERVER_CLIENT_UAS[:3] if rank % 3 == 0 else SERVER_CLIENT_UAS)
            second = pick(SERVER_CLIENT_UAS) if self._r() < 0.4 else main
            return [main] * 10 + [second] * 4 + [pick(DEV_TOOL_UAS), pick(DEV_TOOL_UAS)]
        if kind == "web":
            return ([pick(DESKTOP_UAS) for _ in range(10)] + [pick(MOBILE_UAS) for _ in range(3)]
                    + [pick(TABLET_UAS), pick(MOBILE_UAS), pick(DEV_TOOL_UAS)])
        app = "".join(ch for ch in (name or "Mobile").split(" ")[0] if ch.isalnum()) or "Mobile"
        app_ua = f"{app}/{randint(2, 9)}.{randint(0, 20)}.{randint(0, 9)} (iPhone; iOS 18.{randint(0, 6)}; Scale/3.00)"
        return ([app_ua] * 5 + [pick(MOBILE_UAS) for _ in range(5)] + ["okhttp/4.12.0"] * 3
                + [pick(TABLET_UAS), pick(TABLET_UAS), pick(DESKTOP_UAS)])

    def _addresses(self, cc: str, machine: bool) -> list[str]:
        """Where the calls come from (16, in proportion): the home country, one or two elsewhere."""
        r = self._r
        ips = spread(self._ips_of(cc, self._randint(1, 4) if machine else 6), 4)
        # Python draws the right side (the address) before the index.
        ips[int(r() * 16)] = self._ips_of(self._country(), 1)[0]
        if r() < 0.3:
            ips[int(r() * 16)] = self._ips_of(self._country(), 1)[0]
        return ips

    def _credentials(self, c: Caller, rank: int, name: str | None, person: bool) -> None:
        """`c`'s key or token, its metadata, how the SDKs carry its id, and its error proneness."""
        r, g = self._r, self._g
        u = r()
        if u < 0.08:
            c.auth = ("x-api-key", "sk_live_" + token(g, 24))
        else:
            c.auth = ("authorization", "Bearer " + ("eyJhbGciOiJSUzI1NiJ9." + token(g, 48) if u < 0.5 else token(g, 40)))
        meta: dict[str, Any] = {"user-id": c.cid}
        if name:
            meta["user-name"] = name
        if not person and r() < 0.7:
            meta["plan"] = PLANS[min(4, int(-math.log(1 - r() * 0.999) * 1.2 + (2 if rank < 20 else 0)))]
        c.meta = meta
        c.meta_json = orjson.dumps(meta).decode()
        # How the id travels: format A through headers, format B mostly through data.metadata.
        c.mode_a = bisect_right((0.45, 0.6, 0.85), r())  # 0 treblle-metadata req, 1 treblle-metadata resp, 2 treblle-user-id req, 3 resp
        c.mode_b = 0 if r() < 0.8 else 2
        c.err = min(4.0, math.exp((r() + r() + r() - 1.5) * 0.9))  # ~log-normal, sigma ~0.45

    def _visitor(self, cum: list[float]) -> Caller:
        """An unidentified visitor: public traffic, crawlers, scripts; no id at all."""
        pick, r = self._pick, self._r
        c = Caller()
        c.cid = None
        c.cum, c.lo, c.span, c.last = cum, 0.0, cum[-1], len(self._slots) - 1
        c.apis = spread(self._apis, 4)
        u = r()
        c.uas = [pick(DESKTOP_UAS) if u < 0.35 else pick(MOBILE_UAS) if u < 0.55 else pick(DEV_TOOL_UAS + SERVER_CLIENT_UAS)] * 16
        cc = self._country()
        c.ips = spread(self._ips_of(cc, 2), 4)
        c.auth = ("authorization", "Bearer " + token(self._g, 40)) if r() < 0.7 else None
        c.lang = ACCEPT_LANGUAGE.get(cc, "en-US,en;q=0.9") if u < 0.55 else None
        c.meta = c.meta_json = None
        c.mode_a = c.mode_b = 0
        c.err = 1.5
        return c

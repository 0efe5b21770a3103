"""Demo traffic: realistic Treblle payloads for a quick local demo and for benchmarks.

`demo_payloads` yields the payloads of four APIs, one per SDK flavour and wire format (apis.py),
called by Zipf-sized customers that join and churn, each in its own daily and weekly rhythm, and by
unidentified visitors (population.py), with browsers, phones, API clients and AI agents from ~30
countries (catalog.py), errors, slow calls and attacks (payloads.py). The same arguments give the
same payloads.
"""

from core.demo.apis import DEMO_APIS
from core.demo.catalog import (
    AI_AGENT_UAS,
    ASSISTANT_UAS,
    COUNTRIES,
    DESKTOP_UAS,
    DEV_TOOL_UAS,
    MOBILE_UAS,
    SCANNER_UAS,
    SERVER_CLIENT_UAS,
    TABLET_UAS,
)
from core.demo.payloads import demo_payloads
from core.demo.population import customer_count

__all__ = [
    "AI_AGENT_UAS",
    "ASSISTANT_UAS",
    "COUNTRIES",
    "DEMO_APIS",
    "DESKTOP_UAS",
    "DEV_TOOL_UAS",
    "MOBILE_UAS",
    "SCANNER_UAS",
    "SERVER_CLIENT_UAS",
    "TABLET_UAS",
    "customer_count",
    "demo_payloads",
]

"""The home page's widgets, and the analyst's choice of which are switched on (saved as JSON)."""

from __future__ import annotations

import orjson

# The settings key the choice is saved under: shared while sign-in is off, else one per analyst.
WIDGETS_KEY = "dashboard.widgets"


def widgets_key(analyst: str) -> str:
    """The settings key of this analyst's choice ("" : everyone's)."""
    return f"{WIDGETS_KEY}:{analyst}" if analyst else WIDGETS_KEY

# key -> title, in the order the home page lays them out.
WIDGETS: dict[str, str] = {
    "new_customers": "New Customers",
    "active_customers": "Active Customers",
    "top_customer": "Top Customer",
    "average_requests": "Average Requests per Customer",
    "unattributed": "Unattributed traffic",
    "customers_list": "Customers List",
    "favorite_customers": "Favorite Customers",
    "top_customers": "Top Customers List",
    "gone_quiet": "Gone quiet",
}


def widget_choices(saved: str | None) -> dict[str, bool]:
    """The widgets switched on, from the saved JSON; every widget is on until switched off.
    Unknown keys in the saved text are ignored and a damaged value falls back to all on."""
    choices = dict.fromkeys(WIDGETS, True)
    if saved:
        try:
            stored = orjson.loads(saved)
        except orjson.JSONDecodeError:
            stored = {}
        if isinstance(stored, dict):
            choices.update({k: bool(v) for k, v in stored.items() if k in WIDGETS})
    return choices


def dump_widget_choices(choices: dict[str, bool]) -> str:
    """The choice as the JSON widget_choices reads back; widgets not named stay on."""
    return orjson.dumps({k: bool(choices.get(k, True)) for k in WIDGETS}).decode()

"""The request history's CSV export: built when the analyst clicks, from the same read as the table."""

from __future__ import annotations

import re
from functools import partial

import streamlit as st

from core.scope import Scope
from db.reads.history import HistoryFilter, history
from db.reads.profile import Profile
from ui import data
from ui.format import format_count, history_csv, plural

CSV_LIMIT = 100_000


def history_csv_text(path: str, cid: int, scope: Scope, filters: HistoryFilter, sort: str,
                     descending: bool) -> str:
    """Every request the history shows with these filters and this order (up to CSV_LIMIT), as CSV."""
    with data.connection(path) as conn:
        rows = history(conn, cid, scope, filters, sort, descending, CSV_LIMIT, 0)
    return history_csv(rows)


def export_csv(profile: Profile, view, filters: HistoryFilter, sort: str, descending: bool,
               total: int) -> None:
    # What the button exports, kept where a test (or a later rerun) can see it.
    """The Export CSV button: the history with these filters and this order, built on click."""
    st.session_state["_history_export"] = (data.db_path(), profile.id, view.scope, filters, sort, descending)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", profile.customer_id).strip("_")[:60] or "customer"
    capped = f" (the first {format_count(CSV_LIMIT)})" if total > CSV_LIMIT else ""
    st.download_button(
        "Export CSV",
        data=partial(history_csv_text, data.db_path(), profile.id, view.scope, filters, sort, descending),
        file_name=f"{name}-requests.csv",
        mime="text/csv",
        icon=":material/download:",
        key="history_export",
        on_click="ignore",
        help=f"All {plural(total, 'request')} shown with these filters and this order{capped}, as CSV",
    )

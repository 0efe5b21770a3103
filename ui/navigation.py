"""The app's pages, for st.navigation: from streamlit_app.py, and from a page a deep link ran alone."""

from __future__ import annotations

import streamlit as st

HOME_PAGE = "pages/home.py"
CUSTOMERS_PAGE = "pages/customers.py"
PROFILE_PAGE = "pages/customer.py"
ALERTS_PAGE = "pages/alerts.py"
ENDPOINTS_PAGE = "pages/endpoints.py"
IDENTITY_PAGE = "pages/identity.py"
USAGE_PAGE = "pages/usage.py"


def navigation(menu: bool = True) -> st.navigation:
    """st.navigation over the pages in pages/ (menu: shown in the sidebar). Calling it also takes
    the app out of Streamlit's old pages-directory mode, which a pages/ folder beside the entry
    script starts it in (and which would list every page in the sidebar)."""
    return st.navigation(position="sidebar" if menu else "hidden", pages=[
        st.Page(HOME_PAGE, title="Home", icon=":material/home:", default=True),
        st.Page(CUSTOMERS_PAGE, title="Customers", icon=":material/group:", url_path="customers"),
        st.Page(ENDPOINTS_PAGE, title="Endpoints", icon=":material/route:", url_path="endpoints"),
        st.Page(USAGE_PAGE, title="Usage", icon=":material/receipt_long:", url_path="usage"),
        st.Page(ALERTS_PAGE, title="Alerts", icon=":material/notifications:", url_path="alerts"),
        st.Page(IDENTITY_PAGE, title="Identity rules", icon=":material/badge:", url_path="identity"),
        # Opened from a customer row or a link (customer?id=...), not from the menu.
        st.Page(PROFILE_PAGE, title="Customer", icon=":material/person:", url_path="customer", visibility="hidden"),
    ])

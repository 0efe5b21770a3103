"""Footfall dashboard entry: page config; a customer link's page alone (ui/links.py), or else the
sign-in gate, navigation and the shared sidebar."""

import streamlit as st

from ui.assets import FAVICON
from ui.auth import admit
from ui.links import customer_link_page
from ui.navigation import navigation
from ui.sidebar import draw_sidebar

st.set_page_config(page_title="Footfall", page_icon=FAVICON, layout="wide")  # a local file: no outside call
own_page = customer_link_page()  # a URL with ?link=: the customer's own page and nothing else
if own_page is not None:
    own_page.run()
else:
    analyst = admit()  # nothing below runs for someone not allowed in
    page = navigation()
    draw_sidebar(analyst)
    page.run()

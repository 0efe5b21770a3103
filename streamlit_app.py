"""Footfall dashboard entry: page config, the sign-in gate, navigation and the shared sidebar."""

import streamlit as st

from ui.auth import admit
from ui.navigation import navigation
from ui.sidebar import draw_sidebar

st.set_page_config(page_title="Footfall", page_icon=":material/footprint:", layout="wide")
analyst = admit()  # nothing below runs for someone not allowed in
page = navigation()
draw_sidebar(analyst)
page.run()

"""Footfall dashboard entry: page config, navigation and the shared sidebar."""

import streamlit as st

from ui.navigation import navigation
from ui.sidebar import draw_sidebar

st.set_page_config(page_title="Footfall", page_icon=":material/footprint:", layout="wide")
page = navigation()
draw_sidebar()
page.run()

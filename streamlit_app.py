"""Footfall dashboard entry: page config, navigation and the shared sidebar."""

import streamlit as st

from ui.sidebar import draw_sidebar

st.set_page_config(page_title="Footfall", page_icon=":material/footprint:", layout="wide")

pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/customers.py", title="Customers", icon=":material/group:", url_path="customers"),
    # Opened from a customer row or a link (customer?id=...), not from the menu.
    st.Page("pages/customer.py", title="Customer", icon=":material/person:", url_path="customer", visibility="hidden"),
]
navigation = st.navigation(pages)
draw_sidebar()
navigation.run()

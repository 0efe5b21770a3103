"""The dashboard's server: streamlit_app.py served by Streamlit's st.App, with Footfall's sign-in
gate on Streamlit's HTTP routes (ui/session_gate.py). `footfall dashboard` and `footfall up` start
it as `streamlit run dashboard_app.py`, which finds `app` and serves it."""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from ui.session_gate import SignInGate

app = st.App(Path(__file__).resolve().parent / "streamlit_app.py", middleware=[Middleware(SignInGate)])

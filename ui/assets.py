"""The dashboard's own files: every page draws with what Footfall serves itself, and asks no other
host for anything (no favicon, font or script from a CDN; tests/browser/test_no_outside_calls.py)."""

from pathlib import Path

# st.set_page_config inlines an SVG file as a data: URL (a Material icon would come from fonts.gstatic.com).
FAVICON = Path(__file__).with_name("favicon.svg")

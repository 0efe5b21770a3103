"""The domain, pure: payloads in, records, figures and charts out. No Streamlit, no SQLite."""

"""Streamlit glue shared by the pages: cached data access and the sidebar's view of the data."""

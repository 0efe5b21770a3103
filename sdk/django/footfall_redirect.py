"""Send the Treblle Django SDK's traffic to a Footfall collector instead of *.treblle.com.

In the project's settings.py, after TREBLLE (the SDK's API_KEY is the Footfall API key):

    from footfall_redirect import install
    install("http://collector.internal:8470/")

The SDK (PyPI ``treblle`` 2.0.6) posts with a class-level ``requests.Session`` that it creates
lazily in ``TreblleMiddleware.get_session()`` (only if ``TreblleMiddleware._session`` is None),
to a random one of https://rocknrolla|punisher|sicario.treblle.com/. This leaves the SDK alone:
it pre-seeds that session with one whose transport adapter rewrites any *.treblle.com URL to the
collector's. Other URLs pass through. Footfall's SDK tests (tests/sdk) run the real SDK with this file.
"""

import os
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter


def _is_treblle_host(hostname):
    host = (hostname or "").lower().rstrip(".")
    return host == "treblle.com" or host.endswith(".treblle.com")


class FootfallRedirectAdapter(HTTPAdapter):
    def __init__(self, target_url, **kwargs):
        self.target = urlsplit(target_url)
        super().__init__(**kwargs)

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        if _is_treblle_host(url.hostname):
            path = self.target.path if self.target.path not in ("", "/") else (url.path or "/")
            query = self.target.query if self.target.path not in ("", "/") else url.query
            request.url = urlunsplit((self.target.scheme, self.target.netloc, path, query, ""))
            request.headers.pop("Host", None)
            if os.environ.get("FOOTFALL_REDIRECT_DEBUG"):
                print(f"[footfall-redirect] {request.method} {urlunsplit(url)} -> {request.url}", flush=True)
        return super().send(request, **kwargs)


def install(target_url):
    """Pre-seed the SDK's shared session (same pool settings the SDK would use)."""
    from treblle.middleware import TreblleMiddleware

    session = requests.Session()
    adapter = FootfallRedirectAdapter(target_url, pool_connections=3, pool_maxsize=10, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    TreblleMiddleware._session = session
    return session

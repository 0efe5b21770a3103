"""Posting JSON to a webhook, with retries and backoff; what went wrong never names the webhook
(its address is a secret: a Slack webhook's path is its key)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

TIMEOUT_SECONDS = 5.0
BACKOFF_SECONDS = (0.5, 1.0)  # the waits before the second and the third attempt
ATTEMPTS = len(BACKOFF_SECONDS) + 1


@dataclass(frozen=True)
class Outcome:
    """How one delivery went: delivered or not, after how many attempts, and the last error."""

    delivered: bool
    attempts: int
    error: str | None


def post_json(url: str, body: dict, claim: Callable[[], bool] = lambda: True,
              backoff: tuple[float, ...] = BACKOFF_SECONDS, timeout: float = TIMEOUT_SECONDS) -> Outcome:
    """POST the body until the webhook answers 2xx, at most len(backoff) + 1 times, waiting the
    backoff between attempts. `claim` is asked before each attempt (it counts the attempt, and
    says no when someone else is delivering): on no, this stops without sending."""
    attempts, error = 0, None
    with httpx.Client(timeout=timeout) as client:
        for wait in (0.0, *backoff):
            if wait:
                time.sleep(wait)
            if not claim():
                break
            attempts += 1
            try:
                reply = client.post(url, json=body)
            except httpx.HTTPError as failure:
                error = redact(f"{type(failure).__name__}: {failure}", url)
                continue
            if 200 <= reply.status_code < 300:
                return Outcome(True, attempts, None)
            error = f"HTTP {reply.status_code}"
    return Outcome(False, attempts, error)


def redact(text: str, url: str) -> str:
    """The text without the webhook's address or path (exception messages may quote them)."""
    path = urlsplit(url).path
    for secret in (url, path if len(path) > 1 else None):
        if secret:
            text = text.replace(secret, "<webhook>")
    return text


def where(url: str) -> str:
    """The webhook's host alone, to say where firings go without showing its secret path."""
    return urlsplit(url).netloc or "the webhook"

"""A small Django API instrumented with the Treblle Django SDK 2.0.6, as its README says:
``treblle.middleware.TreblleMiddleware`` in MIDDLEWARE and a ``TREBLLE`` settings dict.

Deliberately runs in a non-UTC zone (America/New_York): the SDK stamps requests with the
server's local wall-clock time.

Environment: TREBLLE_SDK_TOKEN, TREBLLE_API_KEY (Footfall's API key = the SDK's API_KEY,
sent as ``project_id``), FOOTFALL_URL (where the SDK's traffic goes instead of treblle.com).
"""

import os

SECRET_KEY = "footfall-sdk-compat-test-app"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "sdkapp.urls"
INSTALLED_APPS = []
DATABASES = {}
USE_TZ = True
TIME_ZONE = "America/New_York"

MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "treblle.middleware.TreblleMiddleware",
]

TREBLLE = {
    "SDK_TOKEN": os.environ.get("TREBLLE_SDK_TOKEN", "footfall-sdk-token"),
    "API_KEY": os.environ.get("TREBLLE_API_KEY", ""),
    "DEBUG": bool(os.environ.get("TREBLLE_DEBUG")),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

if os.environ.get("FOOTFALL_URL"):
    from footfall_redirect import install  # sdk/django/, as the README tells operators (on PYTHONPATH)

    install(os.environ["FOOTFALL_URL"])

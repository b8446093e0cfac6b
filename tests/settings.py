"""Test settings: the real PostgreSQL and Redis on this machine (override with DATABASE_URL /
REDIS_URL), and a fast password hasher."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/modelgate")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("MODELGATE_TEST_DB", "test_modelgate")}  # noqa: F405
# WhiteNoise would index every static file whenever a test client builds its middleware
# (about 0.1 s a test); with autorefresh it looks files up per request instead.
WHITENOISE_AUTOREFRESH = True
# The shared cache (sign-in counters, the Basic-auth memo) gets a prefix of its own per test
# run, inherited by the servers and workers the tests start, so runs never see each other's
# counters; tests/conftest.py forgets the sign-in counters between tests.
os.environ.setdefault("MODELGATE_TEST_CACHE_PREFIX", f"modelgate-test-{os.getpid()}")
CACHES["default"]["KEY_PREFIX"] = os.environ["MODELGATE_TEST_CACHE_PREFIX"]  # noqa: F405

import pytest
from django.test import override_settings


@pytest.fixture(autouse=True, scope="session")
def _no_static_file_index():
    """WhiteNoise indexes every static file whenever a test client builds its middleware
    (about 0.1 s per test); with autorefresh it looks files up per request instead. The API
    serves no static files. (Belongs in tests/settings.py, which this suite may not edit.)"""
    with override_settings(WHITENOISE_AUTOREFRESH=True):
        yield


@pytest.fixture(autouse=True)
def empty_cache():
    """Sign-in failure counters, lockouts and the Basic-auth memo live in the shared cache
    (Redis) and outlive a test's database: each test here starts and ends without them."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()

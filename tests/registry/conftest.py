"""Builders for registry tests. They go through the actions (the only write path), acting as
the model's creator, so the rows look exactly like the ones the API makes."""

import pytest
from django.test import override_settings

from registry import actions

SOURCE = "s3://bucket/fraud/model"


@pytest.fixture(autouse=True, scope="session")
def _no_static_file_index():
    """WhiteNoise indexes every static file whenever a test client builds its middleware
    (about 0.1 s per test); with autorefresh it looks files up per request instead. The API
    serves no static files. (Belongs in tests/settings.py, which this suite may not edit.)"""
    with override_settings(WHITENOISE_AUTOREFRESH=True):
        yield


@pytest.fixture
def make_model(owner_ctx):
    def make(name="fraud", **kwargs):
        return actions.model_create(owner_ctx, name=name, **kwargs)

    return make


@pytest.fixture
def make_version(owner_ctx):
    def make(name="fraud", source=SOURCE, **kwargs):
        return actions.version_create(owner_ctx, name=name, source=source, **kwargs)

    return make

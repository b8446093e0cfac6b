"""Builders for registry tests. They go through the actions (the only write path), acting as
the model's creator, so the rows look exactly like the ones the API makes."""

import pytest

from registry import actions

SOURCE = "s3://bucket/fraud/model"


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

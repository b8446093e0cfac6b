"""Fixtures for the approval-workflow suite: models built and levels granted through the real
actions (the only write path), plus the real clients (mlflow, databricks-sdk) and plain HTTP
pointed at a live Modelgate with one principal's token.

The registry default level is CAN_READ (settings), so every authenticated user may read and
request; anything more is granted here explicitly.
"""


import pytest

from accounts.models import User
from registry import actions
from registry.models import ModelVersion

SOURCE = "s3://bucket/fraud/model"


def stage_of(number, name="fraud"):
    return ModelVersion.objects.get(model__name=name, version=number).current_stage


@pytest.fixture
def make_user(db):
    """make_user(name) -> a plain user (CAN_READ through the registry default)."""

    def make(username, **extra):
        return User.objects.create_user(username=username, password=f"{username}-pw-123", **extra)

    return make


@pytest.fixture
def build(ctx_for, owner):
    """build(name, stages=[...], aliases={...}) -> a model made by `owner`, one version per
    entry of `stages`, moved there directly (before any policy exists)."""

    def make(name="fraud", *, stages=("None",), aliases=None):
        ctx = ctx_for(owner, via="cli")
        model = actions.model_create(ctx, name=name)
        for number, stage in enumerate(stages, start=1):
            actions.version_create(ctx, name=name, source=f"{SOURCE}/{number}")
            if stage != "None":
                actions.version_transition(ctx, name=name, version=number, stage=stage)
        for alias, number in (aliases or {}).items():
            actions.alias_set(ctx, name=name, alias=alias, version=number)
        model.refresh_from_db()
        return model

    return make


@pytest.fixture
def modelgate_as(api_as):
    """modelgate_as(user) -> the HTTP test client on /api/2.0/modelgate/ as that user."""
    return lambda user: api_as(user, prefix="/api/2.0/modelgate/")


# Real clients against a live server ----------------------------------------------------------

"""Fixtures for the approval-workflow suite: models built and levels granted through the real
actions (the only write path), plus the real clients (mlflow, databricks-sdk) and plain HTTP
pointed at a live Modelgate with one principal's token.

The registry default level is CAN_READ (settings), so every authenticated user may read and
request; anything more is granted here explicitly.
"""


import pytest

from accounts.models import User
from audit.models import Activity
from registry import actions
from registry.models import ModelVersion

SOURCE = "s3://bucket/fraud/model"


def last_seq():
    return Activity.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def stage_of(number, name="fraud"):
    return ModelVersion.objects.get(model__name=name, version=number).current_stage


def events_since(seq, **filters):
    # Tokens the test issues to its callers along the way are the test's doing, not the call's.
    rows = Activity.objects.filter(seq__gt=seq, **filters).exclude(event__startswith="api_token.").order_by("seq")
    return list(rows.values_list("event", flat=True))


@pytest.fixture
def make_user(db):
    """make_user(name) -> a plain user (CAN_READ through the registry default)."""

    def make(username, **extra):
        return User.objects.create_user(username=username, password=f"{username}-pw-123", **extra)

    return make


@pytest.fixture
def grant(ctx_for, owner):
    """grant(model, *users, level=...): direct grants on one model, made by its owner through
    the action every API path uses (PATCH semantics: other grants stay)."""

    def give(model, *users, level):
        acl = [
            {
                "service_principal_name" if u.is_service_account else "user_name": u.username,
                "permission_level": level,
            }
            for u in users
        ]
        actions.model_permissions_change(ctx_for(owner), uid=model.uid, access_control_list=acl, replace=False)

    return give


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

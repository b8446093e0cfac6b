"""Fixtures for the permission suite: levels granted through the real actions, a registry with
no default level (so only explicit grants count), and the real clients (mlflow, databricks-sdk)
pointed at a live Modelgate with one principal's token."""


import pytest

from registry import actions
from tests.conftest import access_entry

SOURCE = "s3://bucket/fraud/model"

@pytest.fixture
def no_default_level(settings):
    """Authenticated users get nothing by default: only grants (and superuser) count."""
    settings.MODELGATE_DEFAULT_LEVEL = "NONE"
    return settings


@pytest.fixture
def grant_root(ctx_for, admin_user):
    """grant_root(principal, level): a registry-wide grant, made by a registry admin."""

    def give(principal, level):
        actions.registry_permissions_change(
            ctx_for(admin_user), access_control_list=[access_entry(principal, level)], replace=False,
        )

    return give


def _pairs(tags):
    return [{"key": k, "value": v} for k, v in (tags or {}).items()]


@pytest.fixture
def build(ctx_for, owner):
    """build(name, ...) -> a model made by `owner` through the actions, with versions and
    optional tags and aliases. stages=[...] gives one version per entry, in that stage."""

    def make(name="fraud", *, stages=("None",), model_tags=None, version_tags=None, aliases=None):
        ctx = ctx_for(owner, via="cli")
        model = actions.model_create(ctx, name=name, tags=_pairs(model_tags))
        for number, stage in enumerate(stages, start=1):
            actions.version_create(ctx, name=name, source=f"{SOURCE}/{number}", tags=_pairs(version_tags))
            if stage != "None":
                actions.version_transition(ctx, name=name, version=number, stage=stage)
        for alias, number in (aliases or {}).items():
            actions.alias_set(ctx, name=name, alias=alias, version=number)
        model.refresh_from_db()
        return model

    return make


# Real clients against a live server ----------------------------------------------------------

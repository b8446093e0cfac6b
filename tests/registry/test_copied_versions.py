"""copy_model_version sends a source naming another registered version (models:/name/3);
its location is frozen at creation so the copy outlives the original."""

import pytest

from audit.errors import ResourceDoesNotExist
from registry import actions, selectors


@pytest.fixture
def origin(owner, ctx_for):
    ctx = ctx_for(owner)
    actions.model_create(ctx, name="dev.fraud")
    actions.version_create(ctx, name="dev.fraud", source="s3://bucket/fraud/1")
    actions.version_create(ctx, name="dev.fraud", source="s3://bucket/fraud/2")
    actions.alias_set(ctx, name="dev.fraud", alias="champion", version="1")
    actions.version_transition(ctx, name="dev.fraud", version="2", stage="Staging")
    actions.model_create(ctx, name="prod.fraud")
    return ctx


@pytest.mark.parametrize(
    "source, expected",
    [
        ("models:/dev.fraud/1", "s3://bucket/fraud/1"),
        ("models:/dev.fraud@champion", "s3://bucket/fraud/1"),
        ("models:/dev.fraud/Staging", "s3://bucket/fraud/2"),
        ("models:/dev.fraud/latest", "s3://bucket/fraud/2"),
    ],
)
def test_a_copy_downloads_from_the_original_versions_location(origin, owner, source, expected):
    mv = actions.version_create(origin, name="prod.fraud", source=source)
    assert mv.source == source  # stored verbatim
    assert selectors.download_uri(owner, "prod.fraud", mv.version) == expected


def test_a_copy_still_resolves_after_the_original_version_is_deleted(origin, owner):
    mv = actions.version_create(origin, name="prod.fraud", source="models:/dev.fraud/1")
    actions.version_delete(origin, name="dev.fraud", version="1")
    assert selectors.download_uri(owner, "prod.fraud", mv.version) == "s3://bucket/fraud/1"


def test_copying_a_missing_version_is_refused_and_creates_nothing(origin):
    with pytest.raises(ResourceDoesNotExist):
        actions.version_create(origin, name="prod.fraud", source="models:/dev.fraud/9")
    with pytest.raises(ResourceDoesNotExist):
        actions.version_create(origin, name="prod.fraud", source="models:/nope/1")
    from registry.models import ModelVersion

    assert not ModelVersion.objects.filter(model__name="prod.fraud").exists()


def test_logged_model_sources_are_not_treated_as_registry_copies(origin, owner):
    mv = actions.version_create(origin, name="prod.fraud", source="models:/m-0123456789abcdef")
    assert selectors.download_uri(owner, "prod.fraud", mv.version) == "models:/m-0123456789abcdef"
    assert mv.logged_model_id == "m-0123456789abcdef"

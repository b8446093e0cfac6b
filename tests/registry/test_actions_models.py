"""model_create, model_update, model_rename, model_delete."""

import pytest

from audit import events
from audit.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from audit.models import Activity
from registry import actions, selectors
from registry.models import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from tests.conftest import events_since, last_seq
from tests.registry.state import snapshot

# model_create --------------------------------------------------------------------------------

def test_creating_a_model_stores_its_description_tags_and_creator(owner_ctx, owner):
    model = actions.model_create(
        owner_ctx, name="fraud", description="Card fraud scorer",
        tags=[{"key": "team", "value": "risk"}, {"key": "tier", "value": "1"}],
    )

    model.refresh_from_db()
    assert model.description == "Card fraud scorer"
    assert model.created_by == owner
    assert model.next_version == 1
    assert dict(model.tags.values_list("key", "value")) == {"team": "risk", "tier": "1"}
    activity = Activity.objects.get()
    assert activity.event == events.MODEL_CREATED
    assert activity.model_name == "fraud"
    assert activity.model_uid == model.uid
    assert activity.actor == "owner"
    assert activity.after == {
        "name": "fraud", "description": "Card fraud scorer", "tags": {"team": "risk", "tier": "1"},
        "owner": "owner",
    }


def test_creating_a_model_with_a_taken_name_is_resource_already_exists(make_model, owner_ctx):
    make_model("fraud")
    before = snapshot()

    with pytest.raises(ResourceAlreadyExists, match=r"Registered Model \(name=fraud\) already exists"):
        actions.model_create(owner_ctx, name="fraud")

    assert snapshot() == before


@pytest.mark.parametrize("name", ["", "team/fraud", "fraud:v2", "x" * 257])
def test_creating_a_model_with_an_invalid_name_is_refused(owner_ctx, name):
    with pytest.raises(InvalidParameterValue):
        actions.model_create(owner_ctx, name=name)

    assert not RegisteredModel.objects.exists()
    assert not Activity.objects.exists()


def test_model_names_may_hold_spaces_dots_and_unicode(owner_ctx):
    for name in ["fraud model", "fraud.v2", "modèle-fraude", "x" * 256]:
        actions.model_create(owner_ctx, name=name)

    assert RegisteredModel.objects.count() == 4


@pytest.mark.parametrize(
    "tags",
    [
        [{"key": "", "value": "x"}],
        [{"key": "k" * 251, "value": "x"}],
        [{"key": "bad\nkey", "value": "x"}],
        [{"key": "a/../b", "value": "x"}],
        [{"key": "k", "value": "v" * 100_001}],
        [{"value": "no key"}],
        ["not-an-object"],
    ],
)
def test_creating_a_model_with_an_invalid_tag_is_refused_and_creates_nothing(owner_ctx, tags):
    with pytest.raises(InvalidParameterValue):
        actions.model_create(owner_ctx, name="fraud", tags=tags)

    assert not RegisteredModel.objects.exists()
    assert not Activity.objects.exists()


def test_a_tag_given_twice_at_creation_keeps_its_last_value(owner_ctx):
    model = actions.model_create(
        owner_ctx, name="fraud", tags=[{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]
    )

    assert list(model.tags.values_list("key", "value")) == [("k", "2")]


# model_update --------------------------------------------------------------------------------

def test_updating_a_model_changes_its_description_and_records_before_and_after(
    make_model, owner_ctx
):
    model = make_model("fraud", description="old")
    updated_before = model.updated_at
    seq = last_seq()

    actions.model_update(owner_ctx, name="fraud", description="new")

    model.refresh_from_db()
    assert model.description == "new"
    assert model.updated_at > updated_before
    activity = Activity.objects.get(seq__gt=seq)
    assert activity.event == events.MODEL_UPDATED
    assert (activity.before, activity.after) == ({"description": "old"}, {"description": "new"})


def test_updating_a_missing_model_is_resource_does_not_exist(owner_ctx, db):
    with pytest.raises(ResourceDoesNotExist, match="Registered Model with name=nope not found"):
        actions.model_update(owner_ctx, name="nope", description="x")

    assert not Activity.objects.exists()


# model_rename --------------------------------------------------------------------------------

def test_renaming_a_model_keeps_its_versions_tags_and_aliases(
    make_model, make_version, owner_ctx, owner
):
    model = make_model("fraud", tags=[{"key": "team", "value": "risk"}])
    make_version("fraud", tags=[{"key": "validated", "value": "yes"}])
    make_version("fraud")
    actions.alias_set(owner_ctx, name="fraud", alias="champion", version="2")

    actions.model_rename(owner_ctx, name="fraud", new_name="fraud-detector")

    renamed = selectors.model_get(owner, "fraud-detector")
    assert renamed.pk == model.pk
    assert renamed.uid == model.uid
    assert [(t.key, t.value) for t in renamed.tags.all()] == [("team", "risk")]
    assert [(a.alias, a.version.version) for a in renamed.aliases.all()] == [("champion", 2)]
    assert selectors.version_get(owner, "fraud-detector", "1").tags.get().value == "yes"
    assert selectors.version_by_alias(owner, "fraud-detector", "champion").version == 2
    with pytest.raises(ResourceDoesNotExist):
        selectors.model_get(owner, "fraud")
    # The counter moves with the model: the next version is 3, not 1.
    assert make_version("fraud-detector").version == 3


def test_renaming_a_model_records_the_old_and_new_name(make_model, owner_ctx):
    model = make_model("fraud")
    seq = last_seq()

    actions.model_rename(owner_ctx, name="fraud", new_name="fraud-detector")

    activity = Activity.objects.get(seq__gt=seq)
    assert activity.event == events.MODEL_RENAMED
    assert activity.model_uid == model.uid
    assert activity.model_name == "fraud-detector"
    assert (activity.before, activity.after) == ({"name": "fraud"}, {"name": "fraud-detector"})


def test_renaming_a_model_onto_a_taken_name_is_resource_already_exists(make_model, owner_ctx):
    make_model("fraud")
    make_model("churn")
    before = snapshot()

    with pytest.raises(ResourceAlreadyExists, match=r"name=churn"):
        actions.model_rename(owner_ctx, name="fraud", new_name="churn")

    assert snapshot() == before


def test_renaming_a_missing_model_is_resource_does_not_exist(owner_ctx, db):
    with pytest.raises(ResourceDoesNotExist):
        actions.model_rename(owner_ctx, name="nope", new_name="other")


@pytest.mark.parametrize("new_name", ["", "a/b", "a:b"])
def test_renaming_a_model_to_an_invalid_name_is_refused(make_model, owner_ctx, new_name):
    make_model("fraud")
    before = snapshot()

    with pytest.raises(InvalidParameterValue):
        actions.model_rename(owner_ctx, name="fraud", new_name=new_name)

    assert snapshot() == before


# model_delete --------------------------------------------------------------------------------

def test_deleting_a_model_removes_its_versions_tags_and_aliases(make_model, make_version, owner_ctx):
    make_model("fraud", tags=[{"key": "team", "value": "risk"}])
    make_version("fraud", tags=[{"key": "k", "value": "v"}])
    actions.alias_set(owner_ctx, name="fraud", alias="champion", version="1")
    make_model("other")
    make_version("other")

    actions.model_delete(owner_ctx, name="fraud")

    assert list(RegisteredModel.objects.values_list("name", flat=True)) == ["other"]
    assert list(ModelVersion.objects.values_list("model__name", flat=True)) == ["other"]
    assert not RegisteredModelTag.objects.exists()
    assert not ModelVersionTag.objects.exists()
    assert not RegisteredModelAlias.objects.exists()


def test_deleting_a_model_frees_the_name_and_a_new_model_restarts_at_version_1(
    make_model, make_version, owner_ctx
):
    old = make_model("fraud")
    make_version("fraud")
    make_version("fraud")

    actions.model_delete(owner_ctx, name="fraud")
    new = make_model("fraud")

    assert new.uid != old.uid
    assert make_version("fraud").version == 1


def test_deleting_a_model_records_what_it_held_and_keeps_the_log(make_model, make_version, owner_ctx):
    model = make_model("fraud")
    make_version("fraud")
    make_version("fraud")
    actions.version_delete(owner_ctx, name="fraud", version="1")
    seq = last_seq()

    actions.model_delete(owner_ctx, name="fraud")

    activity = Activity.objects.get(seq__gt=seq)
    assert activity.event == events.MODEL_DELETED
    assert activity.before == {"name": "fraud", "uid": model.uid, "versions": [2]}
    # The log outlives the model it describes.
    assert Activity.objects.filter(model_uid=model.uid).count() == seq + 1


def test_deleting_a_missing_model_is_resource_does_not_exist(owner_ctx, db):
    with pytest.raises(ResourceDoesNotExist):
        actions.model_delete(owner_ctx, name="nope")

    assert events_since(0) == []

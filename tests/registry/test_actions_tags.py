"""model_tag_set, model_tag_delete, version_tag_set, version_tag_delete."""

import pytest

from audit import events
from audit.errors import InvalidParameterValue, ResourceDoesNotExist
from audit.models import Activity
from registry import actions
from registry.models import ModelVersionTag, RegisteredModel, RegisteredModelTag
from tests.conftest import last_seq
from tests.registry.state import snapshot


@pytest.fixture
def fraud(make_model, make_version):
    model = make_model("fraud")
    make_version("fraud")
    return model


def model_tags():
    return dict(RegisteredModelTag.objects.values_list("key", "value"))


def version_tags():
    return dict(ModelVersionTag.objects.values_list("key", "value"))


# Registered-model tags -----------------------------------------------------------------------

def test_setting_a_model_tag_adds_it_and_records_it(fraud, owner_ctx):
    seq = last_seq()

    actions.model_tag_set(owner_ctx, name="fraud", key="team", value="risk")

    assert model_tags() == {"team": "risk"}
    activity = Activity.objects.get(seq__gt=seq)
    assert activity.event == events.MODEL_TAG_SET
    assert activity.target == "team"
    assert (activity.before, activity.after) == (None, {"key": "team", "value": "risk"})


def test_setting_an_existing_model_tag_overwrites_it_and_records_the_old_value(fraud, owner_ctx):
    actions.model_tag_set(owner_ctx, name="fraud", key="team", value="risk")
    seq = last_seq()

    actions.model_tag_set(owner_ctx, name="fraud", key="team", value="fraud-ops")

    assert model_tags() == {"team": "fraud-ops"}
    assert Activity.objects.get(seq__gt=seq).before == {"key": "team", "value": "risk"}


def test_setting_a_model_tag_bumps_the_models_last_updated_time(fraud, owner_ctx):
    before = RegisteredModel.objects.get(pk=fraud.pk).updated_at

    actions.model_tag_set(owner_ctx, name="fraud", key="team", value="risk")

    assert RegisteredModel.objects.get(pk=fraud.pk).updated_at > before


def test_tag_keys_may_contain_dots_slashes_dashes_spaces_and_colons(fraud, owner_ctx):
    for key in ["mlflow.prompt.is_prompt", "a/b", "a-b", "a b", "ns:key"]:
        actions.model_tag_set(owner_ctx, name="fraud", key=key, value="1")

    assert len(model_tags()) == 5


def test_an_empty_tag_value_is_allowed(fraud, owner_ctx):
    actions.model_tag_set(owner_ctx, name="fraud", key="empty", value="")

    assert model_tags() == {"empty": ""}


@pytest.mark.parametrize(
    "key, value",
    [("", "v"), ("k" * 251, "v"), ("bad\tkey", "v"), ("../etc", "v"), ("k", "v" * 100_001)],
)
def test_setting_an_invalid_model_tag_is_refused(fraud, owner_ctx, key, value):
    before = snapshot()

    with pytest.raises(InvalidParameterValue):
        actions.model_tag_set(owner_ctx, name="fraud", key=key, value=value)

    assert snapshot() == before


def test_setting_a_tag_on_a_missing_model_is_resource_does_not_exist(owner_ctx, db):
    with pytest.raises(ResourceDoesNotExist):
        actions.model_tag_set(owner_ctx, name="nope", key="k", value="v")


def test_deleting_a_model_tag_removes_it_and_records_its_value(fraud, owner_ctx):
    actions.model_tag_set(owner_ctx, name="fraud", key="team", value="risk")
    actions.model_tag_set(owner_ctx, name="fraud", key="tier", value="1")
    seq = last_seq()

    actions.model_tag_delete(owner_ctx, name="fraud", key="team")

    assert model_tags() == {"tier": "1"}
    activity = Activity.objects.get(seq__gt=seq)
    assert activity.event == events.MODEL_TAG_DELETED
    assert activity.before == {"key": "team", "value": "risk"}


def test_deleting_a_missing_model_tag_changes_nothing_and_writes_no_activity(fraud, owner_ctx):
    before = snapshot()

    assert actions.model_tag_delete(owner_ctx, name="fraud", key="nope") is None

    assert snapshot() == before


def test_deleting_a_tag_of_a_missing_model_is_resource_does_not_exist(owner_ctx, db):
    with pytest.raises(ResourceDoesNotExist):
        actions.model_tag_delete(owner_ctx, name="nope", key="k")


# Model-version tags --------------------------------------------------------------------------

def test_setting_a_version_tag_adds_it_to_that_version_only(fraud, make_version, owner_ctx):
    make_version("fraud")
    seq = last_seq()

    actions.version_tag_set(owner_ctx, name="fraud", version="2", key="validated", value="yes")

    assert list(ModelVersionTag.objects.values_list("version__version", "key", "value")) == [
        (2, "validated", "yes")
    ]
    activity = Activity.objects.get(seq__gt=seq)
    assert activity.event == events.VERSION_TAG_SET
    assert (activity.version, activity.target) == (2, "validated")


def test_setting_an_existing_version_tag_overwrites_it(fraud, owner_ctx):
    actions.version_tag_set(owner_ctx, name="fraud", version="1", key="k", value="1")
    seq = last_seq()

    actions.version_tag_set(owner_ctx, name="fraud", version="1", key="k", value="2")

    assert version_tags() == {"k": "2"}
    assert Activity.objects.get(seq__gt=seq).before == {"key": "k", "value": "1"}


def test_setting_an_invalid_version_tag_is_refused(fraud, owner_ctx):
    before = snapshot()

    with pytest.raises(InvalidParameterValue):
        actions.version_tag_set(owner_ctx, name="fraud", version="1", key="", value="v")

    assert snapshot() == before


@pytest.mark.parametrize("name, version", [("nope", "1"), ("fraud", "9")])
def test_setting_a_tag_on_a_missing_version_is_resource_does_not_exist(
    fraud, owner_ctx, name, version
):
    with pytest.raises(ResourceDoesNotExist):
        actions.version_tag_set(owner_ctx, name=name, version=version, key="k", value="v")


def test_setting_a_tag_on_a_version_that_is_not_a_number_is_invalid(fraud, owner_ctx):
    with pytest.raises(InvalidParameterValue, match="must be an integer, got 'abc'"):
        actions.version_tag_set(owner_ctx, name="fraud", version="abc", key="k", value="v")


def test_deleting_a_version_tag_removes_it_and_records_it(fraud, owner_ctx):
    actions.version_tag_set(owner_ctx, name="fraud", version="1", key="k", value="v")
    seq = last_seq()

    actions.version_tag_delete(owner_ctx, name="fraud", version="1", key="k")

    assert version_tags() == {}
    activity = Activity.objects.get(seq__gt=seq)
    assert activity.event == events.VERSION_TAG_DELETED
    assert activity.before == {"key": "k", "value": "v"}


def test_deleting_a_missing_version_tag_changes_nothing_and_writes_no_activity(fraud, owner_ctx):
    before = snapshot()

    assert actions.version_tag_delete(owner_ctx, name="fraud", version="1", key="nope") is None

    assert snapshot() == before


def test_deleting_a_tag_of_a_missing_version_is_resource_does_not_exist(fraud, owner_ctx):
    with pytest.raises(ResourceDoesNotExist):
        actions.version_tag_delete(owner_ctx, name="fraud", version="9", key="k")

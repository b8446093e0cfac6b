"""alias_set, alias_delete."""

import pytest

from audit import events
from audit.errors import InvalidParameterValue, ResourceDoesNotExist
from audit.models import Activity
from registry import actions, selectors
from registry.models import RegisteredModelAlias
from tests.conftest import last_seq
from tests.registry.state import snapshot


@pytest.fixture
def fraud(make_model, make_version):
    model = make_model("fraud")
    make_version("fraud")
    make_version("fraud")
    return model


def aliases(name="fraud"):
    return dict(
        RegisteredModelAlias.objects.filter(model__name=name).values_list("alias", "version__version")
    )


def test_setting_an_alias_points_it_at_the_version(fraud, owner_ctx, owner):
    seq = last_seq()

    actions.alias_set(owner_ctx, name="fraud", alias="champion", version="1")

    assert aliases() == {"champion": 1}
    assert selectors.version_by_alias(owner, "fraud", "champion").version == 1
    activity = Activity.objects.get(seq__gt=seq)
    assert activity.event == events.ALIAS_CREATED
    assert (activity.target, activity.version) == ("champion", 1)
    assert (activity.before, activity.after) == (None, {"alias": "champion", "version": 1})


def test_setting_an_existing_alias_moves_it_and_records_a_move(fraud, owner_ctx):
    actions.alias_set(owner_ctx, name="fraud", alias="champion", version="1")
    seq = last_seq()

    actions.alias_set(owner_ctx, name="fraud", alias="champion", version="2")

    assert aliases() == {"champion": 2}
    activity = Activity.objects.get(seq__gt=seq)
    assert activity.event == events.ALIAS_MOVED
    assert activity.before == {"alias": "champion", "version": 1}
    assert activity.after == {"alias": "champion", "version": 2}


def test_a_version_can_carry_several_aliases(fraud, owner_ctx):
    for alias in ["champion", "canary", "blue"]:
        actions.alias_set(owner_ctx, name="fraud", alias=alias, version="2")

    assert aliases() == {"blue": 2, "canary": 2, "champion": 2}


def test_aliases_are_case_sensitive(fraud, owner_ctx):
    actions.alias_set(owner_ctx, name="fraud", alias="a1", version="1")
    actions.alias_set(owner_ctx, name="fraud", alias="A1", version="2")

    assert aliases() == {"a1": 1, "A1": 2}


def test_the_same_alias_on_two_models_is_two_aliases(fraud, make_model, make_version, owner_ctx):
    make_model("churn")
    make_version("churn")

    actions.alias_set(owner_ctx, name="fraud", alias="champion", version="2")
    actions.alias_set(owner_ctx, name="churn", alias="champion", version="1")

    assert aliases("fraud") == {"champion": 2}
    assert aliases("churn") == {"champion": 1}


@pytest.mark.parametrize(
    "alias", ["latest", "LATEST", "Latest", "v1", "V2", "v10", "", "has space", "dot.ted", "a" * 256]
)
def test_reserved_or_malformed_aliases_are_refused(fraud, owner_ctx, alias):
    before = snapshot()

    with pytest.raises(InvalidParameterValue):
        actions.alias_set(owner_ctx, name="fraud", alias=alias, version="1")

    assert snapshot() == before


@pytest.mark.parametrize("alias", ["champion", "v1beta", "version2", "blue-green", "a_b", "a" * 255])
def test_aliases_that_only_look_reserved_are_allowed(fraud, owner_ctx, alias):
    actions.alias_set(owner_ctx, name="fraud", alias=alias, version="1")

    assert aliases() == {alias: 1}


@pytest.mark.parametrize("name, version", [("nope", "1"), ("fraud", "99")])
def test_setting_an_alias_to_a_missing_version_is_resource_does_not_exist(
    fraud, owner_ctx, name, version
):
    before = snapshot()

    with pytest.raises(ResourceDoesNotExist):
        actions.alias_set(owner_ctx, name=name, alias="champion", version=version)

    assert snapshot() == before


def test_deleting_an_alias_removes_it_and_records_where_it_pointed(fraud, owner_ctx, owner):
    actions.alias_set(owner_ctx, name="fraud", alias="champion", version="2")
    actions.alias_set(owner_ctx, name="fraud", alias="canary", version="2")
    seq = last_seq()

    actions.alias_delete(owner_ctx, name="fraud", alias="champion")

    assert aliases() == {"canary": 2}
    activity = Activity.objects.get(seq__gt=seq)
    assert activity.event == events.ALIAS_DELETED
    assert (activity.target, activity.version) == ("champion", 2)
    assert activity.before == {"alias": "champion", "version": 2}
    with pytest.raises(InvalidParameterValue, match="alias champion not found"):
        selectors.version_by_alias(owner, "fraud", "champion")


def test_deleting_a_missing_alias_changes_nothing_and_writes_no_activity(fraud, owner_ctx):
    before = snapshot()

    assert actions.alias_delete(owner_ctx, name="fraud", alias="nope") is None

    assert snapshot() == before


def test_deleting_an_alias_of_a_missing_model_is_resource_does_not_exist(owner_ctx, db):
    with pytest.raises(ResourceDoesNotExist):
        actions.alias_delete(owner_ctx, name="nope", alias="champion")


def test_looking_up_an_alias_of_a_missing_model_is_resource_does_not_exist(db, owner):
    with pytest.raises(ResourceDoesNotExist):
        selectors.version_by_alias(owner, "nope", "champion")

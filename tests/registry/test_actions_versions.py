"""version_create, version_update, version_delete, version_transition."""

import pytest
from django.test import override_settings

from audit import events
from audit.errors import InvalidParameterValue, ResourceDoesNotExist
from audit.models import Activity
from registry import actions, selectors
from registry.models import ModelVersion, RegisteredModelAlias
from tests.conftest import last_seq
from tests.registry.state import snapshot


@pytest.fixture
def fraud(make_model):
    return make_model("fraud")


def stages(name="fraud"):
    return dict(
        ModelVersion.objects.live().filter(model__name=name).values_list("version", "current_stage")
    )


# version_create ------------------------------------------------------------------------------

def test_creating_versions_numbers_them_from_1_in_order(fraud, make_version):
    numbers = [make_version("fraud").version for _ in range(3)]

    assert numbers == [1, 2, 3]


def test_each_model_numbers_its_versions_separately(make_model, make_version):
    make_model("fraud")
    make_model("churn")
    make_version("fraud")
    make_version("fraud")

    assert make_version("churn").version == 1


def test_creating_a_version_stores_what_the_client_sent(fraud, owner_ctx, owner):
    mv = actions.version_create(
        owner_ctx, name="fraud", source="s3://bucket/fraud/1", run_id="abc123",
        run_link="http://tracking/runs/abc123", description="first",
        tags=[{"key": "validated", "value": "yes"}],
    )

    mv.refresh_from_db()
    assert (mv.source, mv.run_id, mv.run_link, mv.description) == (
        "s3://bucket/fraud/1", "abc123", "http://tracking/runs/abc123", "first",
    )
    assert mv.current_stage == "None"
    assert mv.created_by == owner
    assert dict(mv.tags.values_list("key", "value")) == {"validated": "yes"}
    activity = Activity.objects.order_by("-seq").first()
    assert activity.event == events.VERSION_CREATED
    assert (activity.model_name, activity.version) == ("fraud", 1)


def test_creating_a_version_bumps_the_models_last_updated_time(fraud, make_version):
    make_version("fraud")

    fraud_after = type(fraud).objects.get(pk=fraud.pk)
    assert fraud_after.updated_at > fraud.updated_at


def test_a_runs_uri_fills_in_the_run_id(fraud, make_version):
    assert make_version("fraud", source="runs:/abc123/model").run_id == "abc123"


def test_a_runs_uri_that_names_another_run_is_refused(fraud, make_version):
    with pytest.raises(InvalidParameterValue, match="points at run 'abc123'"):
        make_version("fraud", source="runs:/abc123/model", run_id="other")


def test_a_logged_model_uri_fills_in_the_model_id(fraud, make_version):
    mv = make_version("fraud", source="models:/m-0123abcd")

    assert mv.logged_model_id == "m-0123abcd"


def test_a_logged_model_uri_that_names_another_model_id_is_refused(fraud, make_version):
    with pytest.raises(InvalidParameterValue, match="names logged model"):
        make_version("fraud", source="models:/m-0123abcd", model_id="m-other")


@pytest.mark.parametrize(
    "source",
    ["", "/home/me/model", "file:///home/me/model", "C:\\models\\fraud", "s3://bucket/../secret",
     "s3://b/" + "x" * 4096],
)
def test_creating_a_version_with_an_unacceptable_source_is_refused(fraud, make_version, source):
    before = snapshot()

    with pytest.raises(InvalidParameterValue):
        make_version("fraud", source=source)

    assert snapshot() == before


@override_settings(MODELGATE_ALLOW_LOCAL_SOURCES=True)
def test_local_sources_are_accepted_when_the_administrator_allows_them(fraud, make_version):
    assert make_version("fraud", source="/shared/models/fraud").source == "/shared/models/fraud"


@pytest.mark.parametrize("source", ["dummy-source", "prompt-template"])
def test_prompt_placeholder_sources_are_accepted(fraud, make_version, source):
    assert make_version("fraud", source=source).source == source


@pytest.mark.parametrize(
    "field, given",
    [
        ("run_id", {"run_id": "r" * 65}),
        ("model_id", {"model_id": "m" * 65}),
        ("run_id", {"source": f"runs:/{'r' * 65}/model"}),
        ("model_id", {"source": f"models:/m-{'0' * 63}"}),
    ],
)
def test_an_overlong_run_or_model_id_is_refused_rather_than_crashing(
    fraud, make_version, field, given
):
    before = snapshot()

    with pytest.raises(InvalidParameterValue, match=field):
        make_version("fraud", **given)

    assert snapshot() == before


def test_run_and_model_ids_of_64_characters_are_accepted(fraud, make_version):
    mv = make_version("fraud", run_id="r" * 64, model_id="m" * 64)

    assert (len(mv.run_id), len(mv.logged_model_id)) == (64, 64)


def test_creating_a_version_of_a_missing_model_does_not_create_the_model(owner_ctx, db):
    with pytest.raises(ResourceDoesNotExist, match="name=nope"):
        actions.version_create(owner_ctx, name="nope", source="s3://b/p")

    assert not ModelVersion.objects.exists()
    assert not Activity.objects.exists()


def test_a_refused_version_does_not_consume_a_number(fraud, make_version):
    with pytest.raises(InvalidParameterValue):
        make_version("fraud", tags=[{"key": "", "value": "x"}])

    assert make_version("fraud").version == 1


# version_update ------------------------------------------------------------------------------

def test_updating_a_version_changes_its_description(fraud, make_version, owner_ctx):
    make_version("fraud", description="old")
    seq = last_seq()

    mv = actions.version_update(owner_ctx, name="fraud", version="1", description="new")

    assert ModelVersion.objects.get(pk=mv.pk).description == "new"
    activity = Activity.objects.get(seq__gt=seq)
    assert activity.event == events.VERSION_UPDATED
    assert (activity.before, activity.after) == ({"description": "old"}, {"description": "new"})


@pytest.mark.parametrize("version", ["abc", "0", "-1", "1.5", ""])
def test_a_version_that_is_not_a_positive_integer_is_invalid(fraud, make_version, owner_ctx, version):
    make_version("fraud")

    with pytest.raises(InvalidParameterValue, match="Parameter 'version' must be"):
        actions.version_update(owner_ctx, name="fraud", version=version, description="x")


def test_updating_a_missing_version_is_resource_does_not_exist(fraud, owner_ctx):
    with pytest.raises(ResourceDoesNotExist, match=r"Model Version \(name=fraud, version=7\) not found"):
        actions.version_update(owner_ctx, name="fraud", version="7", description="x")


# version_delete ------------------------------------------------------------------------------

def test_deleting_a_version_is_soft_and_its_number_is_never_reused(fraud, make_version, owner_ctx):
    make_version("fraud")
    make_version("fraud")

    actions.version_delete(owner_ctx, name="fraud", version="2")

    deleted = ModelVersion.objects.get(model=fraud, version=2)
    assert deleted.is_deleted
    assert make_version("fraud").version == 3


def test_deleting_a_version_removes_the_aliases_that_pointed_at_it(fraud, make_version, owner_ctx):
    make_version("fraud")
    make_version("fraud")
    actions.alias_set(owner_ctx, name="fraud", alias="champion", version="2")
    actions.alias_set(owner_ctx, name="fraud", alias="canary", version="2")
    actions.alias_set(owner_ctx, name="fraud", alias="fallback", version="1")
    seq = last_seq()

    actions.version_delete(owner_ctx, name="fraud", version="2")

    assert list(RegisteredModelAlias.objects.values_list("alias", flat=True)) == ["fallback"]
    activity = Activity.objects.get(seq__gt=seq)
    assert activity.event == events.VERSION_DELETED
    assert activity.version == 2
    assert activity.before["aliases"] == ["canary", "champion"]


def test_a_deleted_version_disappears_from_get_search_and_latest_versions(
    fraud, make_version, owner_ctx, owner
):
    make_version("fraud")
    make_version("fraud")
    actions.version_transition(owner_ctx, name="fraud", version="2", stage="Production")

    actions.version_delete(owner_ctx, name="fraud", version="2")

    with pytest.raises(ResourceDoesNotExist):
        selectors.version_get(owner, "fraud", "2")
    with pytest.raises(ResourceDoesNotExist):
        selectors.download_uri(owner, "fraud", "2")
    found, _ = selectors.versions_search(owner, filter_string="name = 'fraud'")
    assert [mv.version for mv in found] == [1]
    assert [mv.version for mv in selectors.latest_versions(owner, "fraud")] == [1]
    assert selectors.latest_versions(owner, "fraud", ["Production"]) == []
    assert [mv.version for mv in selectors.model_get(owner, "fraud").latest_versions] == [1]


def test_a_deleted_version_cannot_be_changed_or_deleted_again(fraud, make_version, owner_ctx):
    make_version("fraud")
    actions.version_delete(owner_ctx, name="fraud", version="1")
    before = snapshot()

    for call in [
        lambda: actions.version_delete(owner_ctx, name="fraud", version="1"),
        lambda: actions.version_update(owner_ctx, name="fraud", version="1", description="x"),
        lambda: actions.version_transition(owner_ctx, name="fraud", version="1", stage="Staging"),
        lambda: actions.version_tag_set(owner_ctx, name="fraud", version="1", key="k", value="v"),
        lambda: actions.alias_set(owner_ctx, name="fraud", alias="champion", version="1"),
    ]:
        with pytest.raises(ResourceDoesNotExist):
            call()

    assert snapshot() == before


def test_deleting_a_version_of_a_missing_model_is_resource_does_not_exist(owner_ctx, db):
    with pytest.raises(ResourceDoesNotExist, match="Registered Model with name=nope"):
        actions.version_delete(owner_ctx, name="nope", version="1")


# version_transition --------------------------------------------------------------------------

def test_transitioning_a_version_moves_it_to_the_stage(fraud, make_version, owner_ctx):
    make_version("fraud")
    seq = last_seq()

    mv = actions.version_transition(
        owner_ctx, name="fraud", version="1", stage="Staging", comment="looks good"
    )

    assert mv.current_stage == "Staging"
    assert stages() == {1: "Staging"}
    activity = Activity.objects.get(seq__gt=seq)
    assert activity.event == events.VERSION_STAGE_TRANSITIONED
    assert activity.comment == "looks good"
    assert activity.before == {"stage": "None"}
    assert activity.after == {"stage": "Staging", "archived_versions": []}


@pytest.mark.parametrize(
    "given, canonical",
    [("production", "Production"), ("STAGING", "Staging"), ("archived", "Archived"), ("none", "None")],
)
def test_stage_names_are_case_insensitive_and_stored_canonically(
    fraud, make_version, owner_ctx, given, canonical
):
    make_version("fraud")

    actions.version_transition(owner_ctx, name="fraud", version="1", stage=given)

    assert stages() == {1: canonical}


@pytest.mark.parametrize("stage", ["Bogus", "", "Deleted_Internal", "Prod"])
def test_an_unknown_stage_is_invalid_and_changes_nothing(fraud, make_version, owner_ctx, stage):
    make_version("fraud")
    before = snapshot()

    with pytest.raises(InvalidParameterValue, match="None, Staging, Production, Archived"):
        actions.version_transition(owner_ctx, name="fraud", version="1", stage=stage)

    assert snapshot() == before


def test_promoting_with_archive_existing_versions_archives_the_others_in_that_stage(
    fraud, make_version, owner_ctx
):
    for _ in range(4):
        make_version("fraud")
    actions.version_transition(owner_ctx, name="fraud", version="1", stage="Production")
    actions.version_transition(owner_ctx, name="fraud", version="2", stage="Production")
    actions.version_transition(owner_ctx, name="fraud", version="3", stage="Staging")
    seq = last_seq()

    actions.version_transition(
        owner_ctx, name="fraud", version="4", stage="Production", archive_existing_versions=True
    )

    assert stages() == {1: "Archived", 2: "Archived", 3: "Staging", 4: "Production"}
    assert Activity.objects.get(seq__gt=seq).after == {
        "stage": "Production", "archived_versions": [1, 2],
    }


def test_promoting_without_archive_existing_versions_leaves_the_others_alone(
    fraud, make_version, owner_ctx
):
    make_version("fraud")
    make_version("fraud")
    actions.version_transition(owner_ctx, name="fraud", version="1", stage="Staging")

    actions.version_transition(owner_ctx, name="fraud", version="2", stage="Staging")

    assert stages() == {1: "Staging", 2: "Staging"}


def test_archive_existing_versions_does_not_touch_other_models(make_model, make_version, owner_ctx):
    for name in ["fraud", "churn"]:
        make_model(name)
        make_version(name)
        make_version(name)
        actions.version_transition(owner_ctx, name=name, version="1", stage="Production")

    actions.version_transition(
        owner_ctx, name="fraud", version="2", stage="Production", archive_existing_versions=True
    )

    assert stages("fraud") == {1: "Archived", 2: "Production"}
    assert stages("churn") == {1: "Production", 2: "None"}


def test_re_promoting_the_current_production_version_with_archiving_keeps_it(
    fraud, make_version, owner_ctx
):
    make_version("fraud")
    actions.version_transition(owner_ctx, name="fraud", version="1", stage="Production")

    actions.version_transition(
        owner_ctx, name="fraud", version="1", stage="Production", archive_existing_versions=True
    )

    assert stages() == {1: "Production"}


@pytest.mark.parametrize("stage", ["Archived", "None"])
def test_archive_existing_versions_is_only_allowed_for_staging_and_production(
    fraud, make_version, owner_ctx, stage
):
    make_version("fraud")
    before = snapshot()

    with pytest.raises(InvalidParameterValue, match="Valid stages are Staging, Production"):
        actions.version_transition(
            owner_ctx, name="fraud", version="1", stage=stage, archive_existing_versions=True
        )

    assert snapshot() == before


def test_archiving_existing_versions_skips_deleted_ones(fraud, make_version, owner_ctx):
    make_version("fraud")
    make_version("fraud")
    actions.version_transition(owner_ctx, name="fraud", version="1", stage="Production")
    actions.version_delete(owner_ctx, name="fraud", version="1")

    actions.version_transition(
        owner_ctx, name="fraud", version="2", stage="Production", archive_existing_versions=True
    )

    assert ModelVersion.objects.get(model=fraud, version=1).current_stage == "Production"
    assert Activity.objects.order_by("-seq").first().after["archived_versions"] == []


def test_transitioning_a_missing_version_is_resource_does_not_exist(fraud, owner_ctx):
    with pytest.raises(ResourceDoesNotExist):
        actions.version_transition(owner_ctx, name="fraud", version="3", stage="Staging")

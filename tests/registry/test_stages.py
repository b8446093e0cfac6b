"""Custom stages (registry/stages.py): registry admins define and delete them through
/api/2.0/modelgate/stages/*, and every MLflow registry call that takes a stage takes them,
with the built-ins answering exactly as before."""

import threading

import pytest
from django.db import connection, transaction

from audit import events
from audit.errors import InvalidParameterValue
from registry import actions
from registry.models import ModelVersion, Stage
from tests.conftest import assert_error, events_since, last_seq

pytestmark = pytest.mark.django_db

STAGING_LEVEL = "CAN_MANAGE_STAGING_VERSIONS"
PRODUCTION_LEVEL = "CAN_MANAGE_PRODUCTION_VERSIONS"


@pytest.fixture
def stages_api(api_as, admin_user):
    return api_as(admin_user, prefix="/api/2.0/modelgate/")


@pytest.fixture
def define(ctx_for, admin_user):
    def make(name, level=STAGING_LEVEL, *, active=False, position=None):
        return actions.stage_create(
            ctx_for(admin_user), name=name, required_level=level, active=active, position=position
        )
    return make


@pytest.fixture
def fraud(owner_ctx):
    """`fraud` with versions 1, 2 and 3, all in None."""
    actions.model_create(owner_ctx, name="fraud")
    for n in range(3):
        actions.version_create(owner_ctx, name="fraud", source=f"s3://bucket/fraud/{n + 1}")


def stage_of(number):
    return ModelVersion.objects.get(model__name="fraud", version=number).current_stage


def listed(stages_api):
    return [s["name"] for s in stages_api.get("stages/list").json_body["stages"]]


# Defining, listing and deleting ------------------------------------------------------------------

def test_a_registry_admin_defines_stages_and_the_list_is_in_lifecycle_order(stages_api, api_as, outsider):
    seq = last_seq()
    shadow = stages_api.post("stages/create", name="Shadow", required_level=STAGING_LEVEL, active=True, position=150)
    assert shadow.status_code == 200, shadow.json_body
    assert shadow.json_body["stage"] == {
        "name": "Shadow", "position": 150, "required_level": STAGING_LEVEL, "active": True, "builtin": False,
    }
    # Without a position a stage goes after Production and the custom stages there.
    canary = stages_api.post("stages/create", name="Canary", required_level=PRODUCTION_LEVEL)
    assert canary.json_body["stage"]["position"] == 201
    assert canary.json_body["stage"]["active"] is False
    assert events_since(seq) == [events.STAGE_CREATED, events.STAGE_CREATED]

    # Anyone signed in reads the lifecycle, built-ins included.
    body = api_as(outsider, prefix="/api/2.0/modelgate/").get("stages/list").json_body
    assert [s["name"] for s in body["stages"]] == ["None", "Staging", "Shadow", "Production", "Canary", "Archived"]
    assert body["stages"][3] == {
        "name": "Production", "position": 200, "required_level": PRODUCTION_LEVEL, "active": True, "builtin": True,
    }

    assert stages_api.delete("stages/delete", name="canary").status_code == 200
    assert listed(stages_api) == ["None", "Staging", "Shadow", "Production", "Archived"]
    assert events_since(seq)[-1] == events.STAGE_DELETED


def test_a_non_admin_cannot_define_or_delete_stages(api_as, owner, define):
    define("Shadow")
    as_owner = api_as(owner, prefix="/api/2.0/modelgate/")
    seq = last_seq()

    refused = as_owner.post("stages/create", name="Canary", required_level=STAGING_LEVEL)
    assert_error(refused, 403, "PERMISSION_DENIED", "requires a registry admin")
    assert_error(as_owner.delete("stages/delete", name="Shadow"), 403, "PERMISSION_DENIED", "requires a registry admin")

    assert list(Stage.objects.values_list("name", flat=True)) == ["Shadow"]
    assert events_since(seq) == []


def test_built_in_stages_cannot_be_deleted(stages_api):
    for name in ("None", "staging", "Production", "ARCHIVED"):
        assert_error(stages_api.delete("stages/delete", name=name), 400, "INVALID_PARAMETER_VALUE", "built-in stage")
    assert_error(stages_api.delete("stages/delete", name="Nope"), 404, "RESOURCE_DOES_NOT_EXIST", "Defined stages: None")


def test_a_stage_with_versions_in_it_cannot_be_deleted_until_they_leave(stages_api, define, fraud, owner_ctx):
    define("Shadow")
    actions.version_transition(owner_ctx, name="fraud", version="2", stage="Shadow")
    seq = last_seq()

    refused = stages_api.delete("stages/delete", name="Shadow")
    assert_error(refused, 400, "INVALID_PARAMETER_VALUE", "Stage 'Shadow' cannot be deleted: 1 model version(s) are in it")
    assert Stage.objects.filter(name="Shadow").exists()
    assert events_since(seq) == []

    actions.version_transition(owner_ctx, name="fraud", version="2", stage="Archived")
    assert stages_api.delete("stages/delete", name="Shadow").status_code == 200
    assert not Stage.objects.exists()


def test_names_match_case_insensitively_and_come_back_in_their_defined_spelling(stages_api, define, api, fraud):
    define("Shadow")
    for taken in ("shadow", "SHADOW", "staging"):
        again = stages_api.post("stages/create", name=taken, required_level=STAGING_LEVEL)
        assert_error(again, 400, "RESOURCE_ALREADY_EXISTS", "already exists")

    moved = api.post("model-versions/transition-stage", name="fraud", version="1", stage="sHaDoW",
                     archive_existing_versions=False)
    assert moved.json_body["model_version"]["current_stage"] == "Shadow"
    latest = api.get("registered-models/get-latest-versions", name="fraud", stages=["SHADOW"])
    assert [v["version"] for v in latest.json_body["model_versions"]] == ["1"]


@pytest.mark.parametrize("body, message", [
    ({"name": "latest", "required_level": STAGING_LEVEL}, "'latest' cannot be a stage name"),
    ({"name": "1st", "required_level": STAGING_LEVEL}, "a letter first"),
    ({"name": " Shadow", "required_level": STAGING_LEVEL}, "no space at either end"),
    ({"name": "S" * 21, "required_level": STAGING_LEVEL}, "1 to 20 characters"),
    ({"name": "Shadow/1", "required_level": STAGING_LEVEL}, "letters, digits"),
    ({"name": "Shadow", "required_level": "CAN_EDIT"}, "must be one of CAN_MANAGE_STAGING_VERSIONS, CAN_MANAGE_PRODUCTION_VERSIONS"),
    ({"name": "Shadow", "required_level": STAGING_LEVEL, "position": 0}, "from 1 to 299"),
    ({"name": "Shadow", "required_level": STAGING_LEVEL, "position": 300}, "from 1 to 299"),
    ({"name": "Shadow", "required_level": STAGING_LEVEL, "position": "early"}, "position"),
    ({"name": "Shadow"}, "required_level"),
])
def test_a_bad_definition_is_invalid_parameter_value_and_changes_nothing(stages_api, body, message):
    seq = last_seq()
    assert_error(stages_api.post("stages/create", **body), 400, "INVALID_PARAMETER_VALUE", message)
    assert not Stage.objects.exists()
    assert events_since(seq) == []


# Every call that takes a stage takes a custom one ---------------------------------------------------

def test_an_unknown_stage_is_invalid_parameter_value_naming_the_defined_stages(api, define, fraud):
    refused = api.post("model-versions/transition-stage", name="fraud", version="1", stage="Shadow",
                       archive_existing_versions=False)
    # With only the built-ins, MLflow's own message.
    assert refused.json_body == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": "Invalid Model Version stage: Shadow. Value must be one of None, Staging, Production, Archived.",
    }
    define("Shadow", position=150)
    define("Canary")
    for answer in (
        api.post("model-versions/transition-stage", name="fraud", version="1", stage="Shadoww",
                 archive_existing_versions=False),
        api.get("registered-models/get-latest-versions", name="fraud", stages=["Shadoww"]),
        api.post("databricks/model-versions/transition-stage", name="fraud", version="1", stage="Shadoww",
                 archive_existing_versions=False),
        api.post("transition-requests/create", name="fraud", version="1", stage="Shadoww"),
    ):
        assert_error(answer, 400, "INVALID_PARAMETER_VALUE",
                     "Value must be one of None, Staging, Shadow, Production, Canary, Archived.")
    assert stage_of(1) == "None"


def test_a_custom_stage_needs_its_level_to_move_a_version_into_or_out_of_it(api_as, grant, reviewer, define, fraud, owner_ctx):
    define("Canary", PRODUCTION_LEVEL)
    define("Shadow", STAGING_LEVEL)
    grant(ModelVersion.objects.get(model__name="fraud", version=1).model, reviewer, level=STAGING_LEVEL)
    as_reviewer = api_as(reviewer)

    def move(version, stage):
        return as_reviewer.post("model-versions/transition-stage", name="fraud", version=version, stage=stage,
                                archive_existing_versions=False)

    assert_error(move("1", "Canary"), 403, "PERMISSION_DENIED", "requires CAN_MANAGE_PRODUCTION_VERSIONS")
    assert move("1", "Shadow").status_code == 200
    assert move("1", "Staging").status_code == 200  # Shadow and Staging are both at the staging level
    actions.version_transition(owner_ctx, name="fraud", version="2", stage="Canary")
    assert_error(move("2", "Archived"), 403, "PERMISSION_DENIED", "from Canary to Archived on registered model 'fraud' requires CAN_MANAGE_PRODUCTION_VERSIONS")
    assert (stage_of(1), stage_of(2)) == ("Staging", "Canary")


def test_an_active_custom_stage_archives_the_versions_in_it_and_an_inactive_one_refuses_to(api, define, fraud):
    define("Shadow", active=True, position=150)
    define("Quarantine")

    def move(version, stage, archive):
        return api.post("model-versions/transition-stage", name="fraud", version=version, stage=stage,
                        archive_existing_versions=archive)

    move("1", "Shadow", False)
    assert move("2", "Shadow", True).status_code == 200
    assert (stage_of(1), stage_of(2)) == ("Archived", "Shadow")

    assert_error(move("3", "quarantine", True), 400, "INVALID_PARAMETER_VALUE",
                 "'Quarantine' is not an Active stage. Valid stages are Staging, Shadow, Production.")
    assert stage_of(3) == "None"


def test_get_latest_versions_and_search_count_active_custom_stages_and_inactive_ones_only_when_named(api, define, fraud, owner_ctx):
    define("Shadow", active=True)
    define("Quarantine")
    actions.version_transition(owner_ctx, name="fraud", version="1", stage="Shadow")
    actions.version_transition(owner_ctx, name="fraud", version="2", stage="Quarantine")

    def latest(**params):
        body = api.get("registered-models/get-latest-versions", name="fraud", **params).json_body
        return [(v["version"], v["current_stage"]) for v in body["model_versions"]]

    assert latest() == [("1", "Shadow"), ("3", "None")]
    assert latest(stages=["quarantine"]) == [("2", "Quarantine")]
    assert latest(stages=["shadow", "None"]) == [("1", "Shadow"), ("3", "None")]

    [found] = api.get("registered-models/search", filter="name = 'fraud'").json_body["registered_models"]
    assert [(v["version"], v["current_stage"]) for v in found["latest_versions"]] == [("1", "Shadow"), ("3", "None")]
    got = api.get("registered-models/get", name="fraud").json_body["registered_model"]
    assert [v["current_stage"] for v in got["latest_versions"]] == ["Shadow", "None"]


# A delete racing a move ---------------------------------------------------------------------------

def in_a_thread(work):
    """Start work() in a thread of its own (its own connection); join() returns its outcome."""
    outcome = {}

    def target():
        try:
            outcome["result"] = work()
        except Exception as exc:  # handed back to the test thread
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()

    def join():
        thread.join(timeout=20)
        assert not thread.is_alive(), "the racing call hung"
        return outcome

    thread.join_outcome = join
    return thread


@pytest.mark.django_db(transaction=True)
def test_a_delete_waits_for_a_move_into_the_stage_and_is_then_refused(define, fraud, owner_ctx, ctx_for, admin_user):
    define("Canary")
    moved, release = threading.Event(), threading.Event()

    def move_and_hold_the_transaction_open():
        with transaction.atomic():
            actions.version_transition(owner_ctx, name="fraud", version="1", stage="Canary")
            moved.set()
            release.wait(timeout=10)

    mover = in_a_thread(move_and_hold_the_transaction_open)
    assert moved.wait(timeout=10)
    deleter = in_a_thread(lambda: actions.stage_delete(ctx_for(admin_user), name="Canary"))
    deleter.join(timeout=0.5)
    assert deleter.is_alive()  # waiting on the moving transaction's hold on the stage
    release.set()

    assert "error" not in mover.join_outcome()
    refused = deleter.join_outcome()["error"]
    assert isinstance(refused, InvalidParameterValue) and "1 model version(s) are in it" in refused.message
    assert (stage_of(1), Stage.objects.filter(name="Canary").exists()) == ("Canary", True)


@pytest.mark.django_db(transaction=True)
def test_a_move_into_a_stage_being_deleted_waits_and_is_then_refused(define, fraud, owner_ctx, ctx_for, admin_user):
    define("Canary")
    deleted, release = threading.Event(), threading.Event()

    def delete_and_hold_the_transaction_open():
        with transaction.atomic():
            actions.stage_delete(ctx_for(admin_user), name="Canary")
            deleted.set()
            release.wait(timeout=10)

    deleter = in_a_thread(delete_and_hold_the_transaction_open)
    assert deleted.wait(timeout=10)
    mover = in_a_thread(lambda: actions.version_transition(owner_ctx, name="fraud", version="1", stage="Canary"))
    mover.join(timeout=0.5)
    assert mover.is_alive()
    release.set()

    assert "error" not in deleter.join_outcome()
    refused = mover.join_outcome()["error"]
    assert isinstance(refused, InvalidParameterValue)
    assert "Value must be one of None, Staging, Production, Archived." in refused.message
    assert (stage_of(1), Stage.objects.exists()) == ("None", False)

"""Lineage without a tracking server that answers: registering never waits for it, the resolving
task retries and finally says why, and the lineage read answers like every other read (the
real tracking server flows are in tests/e2e/test_lineage.py)."""

import socket

import pytest

from audit import events
from audit.ctx import Ctx
from audit.errors import PermissionDenied
from registry import actions, tracking
from registry.models import ModelVersion
from registry.tasks import resolve_lineage
from tests.conftest import assert_error, events_since, last_seq

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_port():
    """A local port nobody listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def tracking_down(settings, closed_port):
    settings.MODELGATE_TRACKING_URI = f"http://127.0.0.1:{closed_port}"
    settings.MODELGATE_TRACKING_TIMEOUT = 1.0
    return settings


@pytest.fixture
def fraud(owner_ctx):
    return actions.model_create(owner_ctx, name="fraud")


def lineage(api, version="1", name="fraud"):
    return api.get("lineage/get", name=name, version=version)


@pytest.fixture
def lineage_api(api_as, owner):
    return api_as(owner, prefix="/api/2.0/modelgate/")


def test_a_version_from_a_run_is_registered_at_once_while_the_tracking_server_is_down(
    tracking_down, fraud, api, lineage_api
):
    created = api.post("model-versions/create", name="fraud", source="runs:/0a1b2c/model")

    assert created.status_code == 200, created.json_body
    assert created.json_body["model_version"]["run_id"] == "0a1b2c"
    body = lineage(lineage_api).json_body["lineage"]
    assert (body["status"], body["run_id"], body["run_link"]) == ("resolving", "0a1b2c", "")


def test_the_task_retries_while_the_tracking_server_is_down_then_says_why_it_gave_up(
    tracking_down, fraud, owner_ctx, lineage_api
):
    mv = actions.version_create(owner_ctx, name="fraud", source="models:/m-0123abcd")
    seq = last_seq()

    with pytest.raises(tracking.TrackingUnreachable):  # a worker would schedule the retry
        resolve_lineage(mv.pk)
    assert lineage(lineage_api).json_body["lineage"]["status"] == "resolving"
    assert events_since(seq) == []

    attempts = tracking_down.MODELGATE_LINEAGE_MAX_RETRIES + 1
    resolve_lineage.apply(args=[mv.pk], retries=attempts - 1)

    body = lineage(lineage_api).json_body["lineage"]
    assert body["status"] == "unavailable"
    assert "did not answer" in body["reason"] and f"gave up after {attempts} attempts" in body["reason"]
    assert events_since(seq) == [events.VERSION_LINEAGE_UNAVAILABLE]


def test_without_a_tracking_server_a_version_has_no_lineage_and_the_read_says_why(fraud, api, lineage_api):
    api.post("model-versions/create", name="fraud", source="runs:/0a1b2c/model")

    body = lineage(lineage_api).json_body["lineage"]
    assert (body["status"], body["run_id"]) == ("none", "0a1b2c")
    assert "no tracking server is configured" in body["reason"]


def test_a_version_naming_no_run_or_logged_model_has_nothing_to_resolve(tracking_down, fraud, api, lineage_api):
    api.post("model-versions/create", name="fraud", source="s3://bucket/fraud/1")

    body = lineage(lineage_api).json_body["lineage"]
    assert (body["status"], body["reason"]) == ("none", "the version names no run or logged model")


def test_a_run_link_the_client_sent_is_kept_when_the_lineage_is_resolved(tracking_down, fraud, api):
    api.post("model-versions/create", name="fraud", source="runs:/0a1b2c/model", run_link="https://ci.example.com/run/7")
    mv = ModelVersion.objects.get(model__name="fraud", version=1)

    actions.version_lineage_record(
        Ctx.system(), version_id=mv.pk, run_id="0a1b2c", experiment_id="3",
        run_link="http://tracking/#/experiments/3/runs/0a1b2c",
    )

    got = api.get("model-versions/get", name="fraud", version="1").json_body["model_version"]
    assert (got["run_id"], got["run_link"]) == ("0a1b2c", "https://ci.example.com/run/7")


def test_a_version_deleted_before_its_lineage_is_resolved_is_left_alone(tracking_down, fraud, owner_ctx):
    mv = actions.version_create(owner_ctx, name="fraud", source="runs:/0a1b2c/model")
    actions.version_delete(owner_ctx, name="fraud", version="1")
    seq = last_seq()

    resolve_lineage(mv.pk)  # nothing to do: no call to the (unreachable) tracking server
    assert actions.version_lineage_record(Ctx.system(), version_id=mv.pk, run_id="0a1b2c") is None
    assert events_since(seq) == []


def test_only_the_system_records_a_versions_lineage(tracking_down, fraud, owner_ctx):
    mv = actions.version_create(owner_ctx, name="fraud", source="runs:/0a1b2c/model")

    with pytest.raises(PermissionDenied):
        actions.version_lineage_record(owner_ctx, version_id=mv.pk, run_id="ffff", experiment_id="1")
    assert ModelVersion.objects.get(pk=mv.pk).lineage_status == "resolving"


def test_the_lineage_of_a_model_the_reader_cannot_read_answers_like_a_missing_one(
    settings, fraud, owner_ctx, api_as, outsider
):
    actions.version_create(owner_ctx, name="fraud", source="s3://bucket/fraud/1")
    settings.MODELGATE_DEFAULT_LEVEL = "NONE"
    api = api_as(outsider, prefix="/api/2.0/modelgate/")

    hidden, missing = lineage(api), lineage(api, name="nope")

    assert_error(hidden, 404, "RESOURCE_DOES_NOT_EXIST", "fraud")
    assert hidden.json_body["message"] == missing.json_body["message"].replace("nope", "fraud")


def test_a_bad_lineage_request_is_a_clear_400(fraud, lineage_api):
    assert_error(lineage(lineage_api, version="abc"), 400, "INVALID_PARAMETER_VALUE")
    assert_error(lineage_api.get("lineage/get", version="1"), 400, "INVALID_PARAMETER_VALUE", "name")

"""Lineage in the split flow: runs and logged models on a real MLflow tracking server, the
registry in Modelgate, a real Celery worker resolving each version's run after commit, and the
pages in headless Chromium. The mlflow client's log_model(..., registered_model_name=...) sends
a models:/m-... source and a model_id but no run id: Modelgate finds the run itself."""

import time

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from audit import events
from audit.ctx import Ctx
from audit.models import Activity
from registry import actions
from registry.models import ModelVersion, RegisteredModel
from tests.conftest import events_since, last_seq
from tests.ui.conftest import NARROW, browser, screenshot, sign_in  # noqa: F401 (fixtures)
from tests.webhooks.conftest import wait_until, worker_broker_url, worker_process  # noqa: F401 (fixtures)
from workflows import actions as workflow_actions

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LINEAGE = "/api/2.0/modelgate/"


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input * 2


@pytest.fixture(scope="module")
def worker_env(tracking_server):
    """The module's real worker (worker_process) knows the tracking server and retries fast
    (0.5 s, doubling)."""
    return {
        "MODELGATE_TRACKING_URI": tracking_server,
        "MODELGATE_LINEAGE_RETRY_SECONDS": "0.5",
        "MODELGATE_LINEAGE_MAX_RETRIES": "30",
    }


@pytest.fixture
def split(worker_process, settings, mlflow_env, tracking_server, registry_url, issue_token, owner):
    """Runs go to the tracking server, the registry is Modelgate (which knows the tracking
    server too). Yields a client of the tracking server."""
    settings.MODELGATE_TRACKING_URI = tracking_server
    mlflow_env.setenv("MLFLOW_TRACKING_URI", tracking_server)
    mlflow_env.setenv("MLFLOW_REGISTRY_URI", registry_url)
    mlflow_env.setenv("MLFLOW_TRACKING_TOKEN", issue_token(owner))
    yield MlflowClient(tracking_uri=tracking_server)
    while mlflow.active_run():
        mlflow.end_run()


def log_and_register(name, *, metrics, params, run_name):
    """Train-and-register as a data scientist does: one run with metrics, params and a dataset,
    one log_model call with registered_model_name."""
    mlflow.set_experiment(f"{name}-experiments")
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        training = pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]})
        mlflow.log_input(mlflow.data.from_pandas(training, name=f"{name}-training"), context="training")
        info = mlflow.pyfunc.log_model(
            name="model", python_model=Doubler(), pip_requirements=[], registered_model_name=name,
        )
    return run, info


def settled(name, number, timeout=60):
    def done():
        mv = ModelVersion.objects.get(model__name=name, version=number)
        return mv if mv.lineage_status != "resolving" else None
    return wait_until(done, timeout=timeout, interval=0.2, what=f"the lineage of {name} v{number}")


def lineage_of(api, name, version):
    response = api.get("lineage/get", name=name, version=str(version))
    assert response.status_code == 200, response.json_body
    return response.json_body["lineage"]


def test_a_model_logged_with_registered_model_name_links_to_the_run_that_built_it(split, api_as, owner, tracking_server):
    seq = last_seq()
    run, info = log_and_register("doubler", metrics={"auc": 0.91, "loss": 0.25},
                                 params={"depth": "6", "eta": "0.3"}, run_name="gbm-2026")
    settled("doubler", 1)

    version = MlflowClient().get_model_version("doubler", "1")
    experiment_id = run.info.experiment_id
    assert version.run_id == run.info.run_id
    assert version.run_link == f"{tracking_server}/#/experiments/{experiment_id}/runs/{run.info.run_id}"
    lineage = lineage_of(api_as(owner, prefix=LINEAGE), "doubler", 1)
    assert (lineage["status"], lineage["reason"], lineage["details_error"]) == ("resolved", "", "")
    assert (lineage["run_id"], lineage["run_name"], lineage["experiment_id"], lineage["experiment_name"]) == (
        run.info.run_id, "gbm-2026", experiment_id, "doubler-experiments")
    assert lineage["logged_model_id"] == info.model_id
    assert {m["key"]: m["value"] for m in lineage["metrics"]} == {"auc": 0.91, "loss": 0.25}
    assert lineage["params"] == [{"key": "depth", "value": "6"}, {"key": "eta", "value": "0.3"}]
    assert [(d["name"], d["context"]) for d in lineage["datasets"]] == [("doubler-training", "training")]
    assert events_since(seq, model_name="doubler")[-1] == events.VERSION_LINEAGE_RESOLVED
    (resolved,) = Activity.objects.filter(seq__gt=seq, event=events.VERSION_LINEAGE_RESOLVED)
    assert (resolved.actor, resolved.via, resolved.version) == ("system", "system", 1)
    assert resolved.after["run_id"] == run.info.run_id


def test_a_registration_while_the_tracking_server_is_down_is_immediate_and_resolved_once_it_is_back(
    split, _tracking_server_boot, api_as, owner
):
    run, info = log_and_register("fraud", metrics={"auc": 0.8}, params={"depth": "4"}, run_name="first")
    settled("fraud", 1)
    _tracking_server_boot.stop()
    try:
        started = time.monotonic()
        created = MlflowClient().create_model_version("fraud", f"models:/{info.model_id}", model_id=info.model_id)
        took = time.monotonic() - started
        assert created.version == "2" and took < 5, took
        time.sleep(2)  # the worker has tried, and failed, a few times by now
        assert lineage_of(api_as(owner, prefix=LINEAGE), "fraud", 2)["status"] == "resolving"
        assert MlflowClient().get_model_version("fraud", "2").run_id == ""
    finally:
        _tracking_server_boot.start()
        _tracking_server_boot.wait_ready()

    assert settled("fraud", 2).lineage_status == "resolved"
    assert MlflowClient().get_model_version("fraud", "2").run_id == run.info.run_id


def test_an_unknown_logged_model_leaves_the_version_registered_with_its_lineage_unavailable_and_why(
    split, api_as, owner, mlflow_as
):
    seq = last_seq()
    actions.model_create(Ctx(user=owner), name="ghost")
    created = mlflow_as(owner).create_model_version("ghost", "models:/m-0123456789abcdef", model_id="m-0123456789abcdef")
    assert created.version == "1"

    assert settled("ghost", 1).lineage_status == "unavailable"
    lineage = lineage_of(api_as(owner, prefix=LINEAGE), "ghost", 1)
    assert lineage["status"] == "unavailable"
    assert "logged model m-0123456789abcdef is not on the tracking server" in lineage["reason"]
    (unavailable,) = Activity.objects.filter(seq__gt=seq, event=events.VERSION_LINEAGE_UNAVAILABLE)
    assert unavailable.after["reason"] == lineage["reason"]


def test_what_pages_read_of_a_run_is_cached_for_its_ttl(split, settings, api_as, owner):
    settings.MODELGATE_TRACKING_CACHE_SECONDS = 2
    run, _ = log_and_register("cached", metrics={"auc": 0.5}, params={}, run_name="cached")
    settled("cached", 1)
    api = api_as(owner, prefix=LINEAGE)
    assert lineage_of(api, "cached", 1)["metrics"][0]["value"] == 0.5

    split.log_metric(run.info.run_id, "auc", 0.75)
    assert lineage_of(api, "cached", 1)["metrics"][0]["value"] == 0.5  # within the TTL: cached
    time.sleep(2.5)
    assert lineage_of(api, "cached", 1)["metrics"][0]["value"] == 0.75


def test_reviewers_see_the_run_metrics_beside_the_champions_where_they_decide(
    split, owner, reviewer, grant, live_server, sign_in, screenshot
):
    log_and_register("churn", metrics={"auc": 0.81, "loss": 0.4}, params={"depth": "4"}, run_name="baseline")
    log_and_register("churn", metrics={"auc": 0.86, "loss": 0.35}, params={"depth": "6"}, run_name="deeper")
    settled("churn", 1)
    settled("churn", 2)
    ctx = Ctx(user=owner)
    actions.alias_set(ctx, name="churn", alias="champion", version="1")
    grant(RegisteredModel.objects.get(name="churn"), reviewer, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    workflow_actions.transition_request_create(ctx, name="churn", version="2", stage="Production", comment="deeper trees")

    page = sign_in("reviewer", "reviewer-pw-123")
    page.goto(f"{live_server.url}/models/churn/versions/2/")
    card = page.locator("section.lineage")
    assert "deeper" in card.inner_text()
    assert card.get_by_role("row", name="auc").inner_text().split() == ["auc", "0.86"]
    assert card.get_by_role("row", name="depth").inner_text().split() == ["depth", "6"]
    assert "churn-training (training)" in card.inner_text()
    deltas = page.locator("article.request .metric-deltas")
    assert "auc 0.86 (+0.05 vs 0.81)" in deltas.inner_text()
    assert "loss 0.35 (-0.05 vs 0.4)" in deltas.inner_text()
    screenshot(page, "lineage-version-wide")

    page.get_by_role("link", name="Compare with @champion").click()
    metrics = page.locator("section", has=page.get_by_role("heading", name="Run metrics"))
    assert metrics.get_by_role("row", name="auc").inner_text().split() == ["auc", "0.81", "0.86", "+0.05"]
    assert metrics.get_by_role("row", name="loss").inner_text().split() == ["loss", "0.4", "0.35", "-0.05"]
    screenshot(page, "lineage-compare-wide")

    page.goto(f"{live_server.url}/reviews/")
    assert "vs @champion: auc 0.86 (+0.05)" in page.locator("table.reviews").inner_text()
    screenshot(page, "lineage-reviews-wide")

    phone = sign_in("reviewer", "reviewer-pw-123", viewport=NARROW)
    phone.goto(f"{live_server.url}/models/churn/versions/2/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    screenshot(phone, "lineage-version-narrow")
    phone.goto(f"{live_server.url}/models/churn/compare/?a=1&b=2")
    assert phone.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    screenshot(phone, "lineage-compare-narrow")

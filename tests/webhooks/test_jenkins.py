"""Jenkins as a webhook target (webhooks-jenkins-audit.md 2b): a promotion queues the job with
its parameters through Jenkins' remote API (a password with the CSRF crumb and its session
cookie, or an API token without), the worker follows the queue item to the build, and the
build's result comes back as the check `jenkins/<job>` on the version, so a required check
can be satisfied by Jenkins itself. Jenkins is a fake HTTP server: the edge we do not own."""

import json

import pytest

from audit.errors import ResourceConflict
from audit.models import Activity
from registry.models import ModelVersion
from webhooks.models import Delivery
from workflows import actions as workflow_actions
from workflows.models import Check

from .conftest import verify_signatures, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

JOB = "ml/deploy"
CHECK = "jenkins/ml/deploy"


@pytest.fixture
def modelgate_as(api_as):
    return lambda user: api_as(user, prefix="/api/2.0/modelgate/")


def create_jenkins_webhook(modelgate_as, user, jenkins, events, secret="", **credentials):
    response = modelgate_as(user).post(
        "webhooks/create", name="deploy", model_name="fraud", events=events, secret=secret,
        jenkins_spec={"base_url": jenkins.base_url, "job": JOB, "user": jenkins.user, **credentials},
    )
    assert response.status_code == 200, response.json_body
    for value in credentials.values():
        assert value not in response.content.decode()
    return response.json_body["webhook"]


def the_check(name="fraud", version=1):
    return Check.objects.filter(version__model__name=name, version__version=version, name=CHECK).first()


def test_a_production_request_runs_the_job_through_the_crumb_flow_and_its_build_satisfies_the_required_check(
    worker, make_jenkins, make_model, modelgate_as, ctx_for, owner, reviewer, admin_user, secret
):
    make_model("fraud")
    workflow_actions.stage_policy_set(ctx_for(owner), name="fraud", stage="Production", required_checks=[CHECK])
    jenkins = make_jenkins(user="modelgate", password="jenkins-pw-123", result="SUCCESS")
    jenkins.finish.clear()  # the build runs until the test lets it end
    hook = create_jenkins_webhook(
        modelgate_as, admin_user, jenkins, ["transition_request.created"], password="jenkins-pw-123", secret=secret
    )
    assert hook["target"] == "jenkins"
    assert hook["jenkins_spec"] == {
        "base_url": jenkins.base_url, "job": JOB, "user": "modelgate", "uses_password": True,
        "enable_ssl_verification": True,
    }

    request = workflow_actions.transition_request_create(ctx_for(owner), name="fraud", version=1, stage="Production")

    [trigger] = wait_until(lambda: jenkins.triggers, what="the job to be queued")
    delivery = wait_until(
        lambda: Delivery.objects.filter(webhook_id=hook["id"], status=Delivery.DELIVERED).first(),
        what="the delivery to settle",
    )
    assert (trigger["job"], trigger["auth"]) == (JOB, "password")
    assert jenkins.crumbs_issued == 1 and jenkins.refused == []
    params = dict(trigger["params"])
    payload = params.pop("PAYLOAD")
    assert params == {
        "MODEL": "fraud", "VERSION": "1", "FROM_STAGE": "None", "TO_STAGE": "Production", "ALIAS": "",
        "REQUEST_ID": str(request.pk), "EVENT": "transition_request.created", "EVENT_ID": delivery.event_id,
    }
    assert payload.encode() == bytes(delivery.payload)
    assert json.loads(payload)["type"] == "transition_request.created"
    # The payload parameter carries the Standard Webhooks signature a Jenkinsfile can check.
    assert trigger["headers"]["webhook-id"] == delivery.event_id
    assert verify_signatures(trigger["headers"], payload.encode(), secret)["standard"] is True

    # The worker follows the queue item to the build; while it runs the check is not passing
    # and an approval that would apply the request is refused.
    wait_until(
        lambda: Delivery.objects.filter(pk=delivery.pk, jenkins_build_number__isnull=False).exists(),
        what="the queue item to become a build",
    )
    with pytest.raises(ResourceConflict, match="Required checks are not passing"):
        workflow_actions.transition_approve(ctx_for(reviewer), name="fraud", version=1, stage="Production")

    jenkins.finish.set()
    check = wait_until(the_check, what=f"the check {CHECK}")
    delivery.refresh_from_db()
    assert (delivery.jenkins_build_number, delivery.jenkins_result) == (41, "SUCCESS")
    assert delivery.jenkins_queue_url == f"{jenkins.base_url}/queue/item/{trigger['item']}/"
    assert delivery.jenkins_build_url == f"{jenkins.base_url}/job/ml/job/deploy/41/"
    assert (check.status, check.details_url, check.reported_by) == ("success", delivery.jenkins_build_url, None)
    assert check.summary == "Jenkins build #41: SUCCESS"
    reported = Activity.objects.get(event="check.reported", target=CHECK)
    assert (reported.via, reported.actor, reported.after["status"]) == ("system", "system", "success")

    outcome = workflow_actions.transition_approve(ctx_for(reviewer), name="fraud", version=1, stage="Production")
    assert outcome.applied
    assert ModelVersion.objects.get(model__name="fraud", version=1).current_stage == "Production"
    assert len(jenkins.triggers) == 1  # the approval was not subscribed


def test_an_approval_runs_the_job_with_an_api_token_without_a_crumb_and_a_failed_build_fails_the_check(
    worker, make_jenkins, make_model, modelgate_as, admin_user, promote
):
    make_model("fraud")
    jenkins = make_jenkins(user="ci-bot", api_token="11f0c0ffee0123456789abcdef", result="FAILURE")
    hook = create_jenkins_webhook(
        modelgate_as, admin_user, jenkins, ["transition_request.approved"], api_token="11f0c0ffee0123456789abcdef"
    )
    assert hook["jenkins_spec"]["uses_password"] is False

    outcome = promote("fraud", 1)

    [trigger] = wait_until(lambda: jenkins.triggers, what="the job to be queued")
    assert trigger["auth"] == "token"
    assert jenkins.crumbs_issued == 0  # API tokens are exempt from CSRF protection
    assert "jenkins-crumb" not in trigger["headers"]
    delivery = Delivery.objects.get(webhook_id=hook["id"])
    params = dict(trigger["params"])
    assert json.loads(params.pop("PAYLOAD"))["data"]["after"]["to_stage"] == "Production"
    assert params == {
        "MODEL": "fraud", "VERSION": "1", "FROM_STAGE": "None", "TO_STAGE": "Production", "ALIAS": "",
        "REQUEST_ID": str(outcome.request.pk), "EVENT": "transition_request.approved", "EVENT_ID": delivery.event_id,
    }
    check = wait_until(the_check, what=f"the check {CHECK}")
    assert check.status == "failure"
    assert check.summary == "Jenkins build #41: FAILURE"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.jenkins_result) == (Delivery.DELIVERED, "FAILURE")


def test_jenkins_refusing_the_credentials_fails_the_delivery_without_a_build_or_a_check(
    worker, make_jenkins, make_model, modelgate_as, admin_user, promote
):
    make_model("fraud")
    jenkins = make_jenkins(user="ci-bot", api_token="the-real-token", result="SUCCESS")
    hook = create_jenkins_webhook(
        modelgate_as, admin_user, jenkins, ["transition_request.approved"], api_token="a-revoked-token"
    )

    promote("fraud", 1)

    delivery = wait_until(
        lambda: Delivery.objects.filter(webhook_id=hook["id"], status=Delivery.FAILED).first(),
        what="the delivery to fail",
    )
    assert jenkins.triggers == []
    assert [status for _, status, _ in jenkins.refused] == [401]  # a 4xx is not retried
    assert delivery.attempts == 1 and delivery.last_error.startswith("HTTP 401")
    assert delivery.jenkins_queue_url == ""
    assert the_check() is None


@pytest.mark.parametrize("names_elsewhere", ["the queue item", "the build"])
def test_jenkins_credentials_never_follow_a_queue_item_or_build_on_another_host(
    names_elsewhere, worker, make_jenkins, make_receiver, make_model, modelgate_as, admin_user, promote
):
    make_model("fraud")
    elsewhere = make_receiver()  # records every request, and its headers
    other_base = elsewhere.url_for("").rstrip("/")
    where = {"queue_base": other_base} if names_elsewhere == "the queue item" else {"build_base": other_base}
    jenkins = make_jenkins(user="ci-bot", api_token="11f0c0ffee0123456789abcdef", **where)
    hook = create_jenkins_webhook(
        modelgate_as, admin_user, jenkins, ["transition_request.approved"], api_token="11f0c0ffee0123456789abcdef"
    )

    promote("fraud", 1)

    wait_until(lambda: the_check() or elsewhere.received(), what=f"the check {CHECK} (or a request elsewhere)")
    assert [r.headers.get("authorization") for r in elsewhere.received()] == []  # not followed at all
    assert len(jenkins.triggers) == 1
    check = the_check()
    delivery = Delivery.objects.get(webhook_id=hook["id"])
    assert (delivery.status, delivery.jenkins_result) == (Delivery.DELIVERED, "NOT_FOLLOWED")
    assert check.status == "failure"
    assert check.summary.startswith(f"Jenkins named {names_elsewhere} at {other_base}/")
    assert f"outside its base_url {jenkins.base_url}" in check.summary


def test_a_jenkins_target_moved_to_another_origin_drops_its_credential_until_a_new_one_is_given(
    make_jenkins, make_model, modelgate_as, ctx_for, admin_user
):
    # No API changes a Jenkins target's base_url today; the action is where the rule lives.
    from webhooks import actions

    make_model("fraud")
    old, new = make_jenkins(user="ci-bot", api_token="old-token"), make_jenkins(user="ci-bot", api_token="new-token")
    hook = create_jenkins_webhook(modelgate_as, admin_user, old, ["model_version.created"], api_token="old-token")
    ctx = ctx_for(admin_user)  # the new Jenkins is on loopback: internal, for registry admins

    actions.webhook_update(ctx, webhook_id=hook["id"], url=new.base_url)
    _, result = actions.webhook_test(ctx, webhook_id=hook["id"], event="model_version.created")

    assert result.status_code == 401 and new.triggers == [] and old.triggers == []
    moved = Activity.objects.filter(event="webhook.updated", target=hook["id"]).get()
    assert "dropped the stored Jenkins credential" in moved.comment

    actions.webhook_update(ctx, webhook_id=hook["id"], url=new.base_url + "/", jenkins_token="new-token")
    _, result = actions.webhook_test(ctx, webhook_id=hook["id"], event="model_version.created")
    assert result.status_code == 201
    assert [t["auth"] for t in new.triggers] == ["token"]

"""Twenty eligible reviewers approve the same request at the same moment, over real HTTP against
a live server (one thread and one database connection per request). Approvals serialise on the
model's row lock: the quorum is reached exactly once, the move happens exactly once, and every
approval that comes after it gets a clear RESOURCE_CONFLICT (409), never a 500."""

import threading
from collections import Counter

import pytest
import requests

from audit.models import Activity
from registry.models import ModelVersion
from workflows import actions
from workflows.models import Review, TransitionRequest

pytestmark = pytest.mark.e2e

REVIEWERS = 20


@pytest.mark.parametrize("quorum", [1, 3])
def test_twenty_concurrent_approvals_apply_the_request_exactly_once(
    quorum, live_server, build, grant, make_user, owner_ctx, ctx_for, outsider, issue_token
):
    model = build("fraud", stages=("Production", "None"))
    reviewers = [make_user(f"reviewer{i:02d}") for i in range(REVIEWERS)]
    grant(model, *reviewers, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    actions.stage_policy_set(owner_ctx, name="fraud", stage="Production", required_approvals=quorum)
    actions.transition_request_create(ctx_for(outsider), name="fraud", version=2, stage="Production")
    tokens = [issue_token(user) for user in reviewers]
    url = live_server.url + "/api/2.0/mlflow/transition-requests/approve"
    body = {"name": "fraud", "version": "2", "stage": "Production", "archive_existing_versions": True}
    start = threading.Barrier(REVIEWERS)
    answers = [None] * REVIEWERS

    def approve(i):
        session = requests.Session()
        start.wait()
        response = session.post(url, json=body, headers={"Authorization": f"Bearer {tokens[i]}"}, timeout=60)
        answers[i] = (response.status_code, response.json())

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(REVIEWERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads)

    statuses = Counter(status for status, _ in answers)
    assert statuses == {200: quorum, 409: REVIEWERS - quorum}, answers
    conflicts = [body for status, body in answers if status == 409]
    assert {c["error_code"] for c in conflicts} == {"RESOURCE_CONFLICT"}
    assert all("no longer pending: it was approved by reviewer" in c["message"] for c in conflicts)

    # The move happened once: v2 in Production, v1 archived once, one approved activity.
    stages = dict(ModelVersion.objects.filter(model=model).values_list("version", "current_stage"))
    assert stages == {1: "Archived", 2: "Production"}
    events = Counter(Activity.objects.filter(model_uid=model.uid).values_list("event", flat=True))
    assert events["transition_request.approved"] == 1
    assert events["transition_request.reviewed"] == quorum - 1
    assert events["model_version.stage_transitioned"] == 1  # the setup's own v1 -> Production

    request = TransitionRequest.objects.get()
    assert request.status == TransitionRequest.APPROVED
    winners = [i for i, (status, _) in enumerate(answers) if status == 200]
    assert Review.objects.filter(request=request).count() == quorum
    assert set(Review.objects.values_list("reviewer__username", flat=True)) == {
        reviewers[i].username for i in winners
    }
    # The one who reached the quorum decided it, and answered APPROVED.
    decisive = [i for i in winners if answers[i][1]["activity"]["request_status"] == "APPROVED"]
    assert [reviewers[i] for i in decisive] == [request.decided_by]

"""The approvers' admin with the Django test client: the same actions, so the same rules."""

import pytest

from audit.models import Activity
from registry import actions as registry_actions
from registry.models import ModelVersion
from workflows import actions
from workflows.models import TransitionRequest


@pytest.fixture
def pending(ctx_for, owner, reviewer, outsider):
    for user in (reviewer, outsider):
        user.is_staff = True
        user.save()
    ctx = ctx_for(owner)
    model = registry_actions.model_create(ctx, name="fraud")
    registry_actions.version_create(ctx, name="fraud", source="s3://b/1")
    registry_actions.model_permissions_change(
        ctx, uid=model.uid, replace=False,
        access_control_list=[{"user_name": "reviewer", "permission_level": "CAN_MANAGE_PRODUCTION_VERSIONS"}],
    )
    return actions.transition_request_create(ctx, name="fraud", version="1", stage="Production", comment="ship")


def _review(client, req, decision, comment=""):
    return client.post(
        f"/admin/workflows/transitionrequest/{req.pk}/review/",
        {"decision": decision, "comment": comment, "next": "/admin/workflows/transitionrequest/pending/"},
        follow=True,
    )


def test_a_reviewer_approves_in_the_admin_and_the_activity_shows_it(client, reviewer, pending):
    client.force_login(reviewer)
    queue = client.get("/admin/workflows/transitionrequest/pending/")
    assert b"fraud" in queue.content and b"0 / 1" in queue.content

    response = _review(client, pending, "approve", "looks good")

    assert "moved to Production" in response.content.decode()
    assert ModelVersion.objects.get(version=1).current_stage == "Production"
    row = Activity.objects.get(event="transition_request.approved")
    assert (row.actor, row.via, row.comment) == ("reviewer", "admin", "looks good")
    page = client.get(f"/admin/workflows/transitionrequest/{pending.pk}/change/").content.decode()
    assert "APPROVED" in page and "looks good" in page


def test_an_outsider_cannot_approve_in_the_admin(client, outsider, pending):
    client.force_login(outsider)
    response = _review(client, pending, "approve", "sneaky")

    assert "Permission denied" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == TransitionRequest.PENDING
    assert not Activity.objects.filter(event__startswith="transition_request.approved").exists()


def test_the_queue_warns_when_a_requests_version_has_moved(client, reviewer, owner, ctx_for, pending):
    registry_actions.version_transition(ctx_for(owner), name="fraud", version="1", stage="Staging")
    client.force_login(reviewer)
    queue = client.get("/admin/workflows/transitionrequest/pending/").content.decode()
    assert "has since moved to Staging" in queue and "will be closed" in queue


def test_the_review_form_never_redirects_off_site(client, reviewer, pending):
    client.force_login(reviewer)
    response = client.post(
        f"/admin/workflows/transitionrequest/{pending.pk}/review/",
        {"decision": "reject", "next": "https://evil.example.com/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/workflows/transitionrequest/pending/"


def test_policies_are_edited_in_the_admin_through_their_actions(client, admin_user, owner, outsider, pending):
    client.force_login(admin_user)
    response = client.post("/admin/workflows/stagepolicy/add/", {
        "stage": "Production", "required_approvals": 2, "separation_of_duties": "on",
        "required_checks": '["jenkins/validation"]', "move_alias_on_approval": "champion",
    }, follow=True)
    assert response.status_code == 200
    from workflows.models import StagePolicy

    policy = StagePolicy.objects.get(model=None, stage="Production")
    assert (policy.required_approvals, policy.required_checks) == (2, ["jenkins/validation"])
    row = Activity.objects.get(event="stage_policy.changed")
    assert (row.actor, row.via) == ("admin", "admin")

    # A staff member who manages no model may not add policies at all; one who manages a model
    # but is not a registry admin is refused a registry-wide one by the action, on the record
    # of nothing.
    body = {"pattern": "champion", "required_level": "CAN_MANAGE", "required_approvals": 1, "required_checks": "[]"}
    client.force_login(outsider)
    assert client.post("/admin/workflows/aliaspolicy/add/", body).status_code == 403
    owner.is_staff = True
    owner.save()
    client.force_login(owner)
    response = client.post("/admin/workflows/aliaspolicy/add/", body, follow=True)
    assert "requires a registry admin" in response.content.decode()
    from workflows.models import AliasPolicy

    assert not AliasPolicy.objects.exists()
    assert not Activity.objects.filter(event="alias_policy.changed").exists()

"""One rule (workflows.policies.stale_reason) decides whether a pending request has gone stale:
the beat's sweep, a review and the approvers' queue must agree on it."""

from registry import actions as registry_actions
from workflows import actions, policies, selectors
from workflows.admin import request_row
from workflows.models import TransitionRequest


def test_the_sweep_the_queue_and_a_review_agree_on_which_requests_are_stale(ctx_for, owner, reviewer):
    ctx = ctx_for(owner)
    model = registry_actions.model_create(ctx, name="stale")
    for _ in range(3):
        registry_actions.version_create(ctx, name="stale", source="s3://b/x")
    registry_actions.model_permissions_change(
        ctx, uid=model.uid, replace=False,
        access_control_list=[{"user_name": "reviewer", "permission_level": "CAN_MANAGE"}],
    )
    moved = actions.transition_request_create(ctx, name="stale", version="1", stage="Staging")
    alias = actions.transition_request_create(ctx, name="stale", version="1", alias="challenger")
    deleted = actions.transition_request_create(ctx, name="stale", version="2", alias="canary")
    actions.transition_request_create(ctx, name="stale", version="3", stage="Production")  # holds
    registry_actions.version_transition(ctx, name="stale", version="1", stage="Production")
    registry_actions.version_delete(ctx, name="stale", version="2")

    requests = TransitionRequest.objects.select_related("created_by", "model", "version").order_by("pk")
    stale = {req.pk for req in requests if policies.stale_reason(req)}
    assert stale == {moved.pk, deleted.pk}
    assert set(selectors.stale_request_ids()) == stale
    assert {req.pk for req in requests if request_row(reviewer, req)["stale"]} == stale

    # A review of a stale request closes it with the rule's reason instead of applying it.
    outcome = actions.transition_approve(ctx_for(reviewer), name="stale", version="1", stage="Staging")
    assert outcome.closed
    assert outcome.request.system_comment == (
        "Closed by the system: version 1 moved from None to Production after the request was made."
    )
    assert selectors.stale_request_ids() == [deleted.pk]
    assert TransitionRequest.objects.get(pk=alias.pk).status == TransitionRequest.PENDING


def test_the_sweep_takes_the_oldest_stale_requests_first_up_to_its_limit(ctx_for, owner):
    ctx = ctx_for(owner)
    registry_actions.model_create(ctx, name="stale")
    made = []
    for number in (1, 2, 3):
        registry_actions.version_create(ctx, name="stale", source="s3://b/x")
        made.append(actions.transition_request_create(ctx, name="stale", version=number, stage="Staging"))
    for number in (3, 1, 2):
        registry_actions.version_delete(ctx, name="stale", version=number)

    assert selectors.stale_request_ids(limit=2) == [made[0].pk, made[1].pk]

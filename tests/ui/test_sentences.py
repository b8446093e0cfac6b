"""ui.sentences.describe: every activity row reads as a sentence that starts with who acted.
The rows come from the real actions, so the sentences follow the shapes the actions record."""

import pytest

from accounts.models import User
from audit import events
from audit.ctx import Ctx
from audit.models import Activity
from registry import actions as registry_actions
from ui.sentences import describe
from workflows import actions as workflow_actions


def _sentences_since(seq):
    return [describe(row) for row in Activity.objects.filter(seq__gt=seq).order_by("seq")]


def _last_seq():
    return Activity.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


@pytest.fixture
def people(db):
    parker = User.objects.create_user(username="parker", password="parker-pw-123")
    marygrace = User.objects.create_user(username="marygrace", password="marygrace-pw-123")
    jenkins = User.objects.create_user(username="jenkins", password="jenkins-pw-123")
    return parker, marygrace, jenkins


@pytest.fixture
def fraud(people):
    parker, marygrace, jenkins = people
    ctx = Ctx(user=parker)
    model = registry_actions.model_create(ctx, name="fraud")
    registry_actions.model_permissions_change(
        ctx, uid=model.uid, replace=False, access_control_list=[
            {"user_name": marygrace.username, "permission_level": "CAN_MANAGE"},
            {"user_name": jenkins.username, "permission_level": "CAN_EDIT"},
        ],
    )
    registry_actions.version_create(ctx, name="fraud", source="s3://fraud/1")
    registry_actions.version_create(ctx, name="fraud", source="s3://fraud/2")
    return model


def test_registry_changes_read_as_sentences(people, db):
    parker = Ctx(user=people[0])
    seq = _last_seq()
    registry_actions.model_create(parker, name="fraud", description="Scores card payments.")
    registry_actions.model_tag_set(parker, name="fraud", key="team", value="risk")
    registry_actions.version_create(parker, name="fraud", source="s3://fraud/1")
    registry_actions.version_create(parker, name="fraud", source="s3://fraud/2")
    registry_actions.version_create(parker, name="fraud", source="s3://fraud/3")
    registry_actions.version_update(parker, name="fraud", version="3", description="Retrained.")
    registry_actions.version_tag_set(parker, name="fraud", version="3", key="owner", value="risk")
    registry_actions.version_tag_delete(parker, name="fraud", version="3", key="owner")
    registry_actions.version_transition(parker, name="fraud", version="1", stage="Production")
    registry_actions.version_transition(
        parker, name="fraud", version="2", stage="Production", archive_existing_versions=True,
        comment="better recall",
    )
    registry_actions.alias_set(parker, name="fraud", alias="champion", version="1")
    registry_actions.alias_set(parker, name="fraud", alias="champion", version="2")
    registry_actions.alias_delete(parker, name="fraud", alias="champion")
    registry_actions.model_tag_delete(parker, name="fraud", key="team")
    registry_actions.model_rename(parker, name="fraud", new_name="fraud-v2")
    registry_actions.version_delete(parker, name="fraud-v2", version="3")
    assert _sentences_since(seq) == [
        "parker created the model fraud",
        "parker set tag team = risk on fraud",
        "parker registered version 1",
        "parker registered version 2",
        "parker registered version 3",
        "parker changed the description of version 3",
        "parker set tag owner = risk on version 3",
        "parker removed tag owner on version 3",
        "parker moved version 1 to Production",
        "parker moved version 2 to Production (version 1 archived): better recall",
        "parker set alias @champion to version 1",
        "parker moved alias @champion from version 1 to version 2",
        "parker removed alias @champion from version 2",
        "parker removed tag team on fraud",
        "parker renamed the model from fraud to fraud-v2",
        "parker deleted version 3",
    ]


def test_a_request_its_reviews_checks_and_comments_read_as_sentences(people, fraud):
    parker, marygrace, _ = (Ctx(user=u) for u in people)
    sam = User.objects.create_user(username="sam", password="sam-pw-123")
    registry_actions.model_permissions_change(
        parker, uid=fraud.uid, access_control_list=[{"user_name": "sam", "permission_level": "CAN_MANAGE"}],
        replace=False,
    )
    workflow_actions.stage_policy_set(
        Ctx(user=people[0]), name="fraud", stage="Production", required_approvals=2,
        archive_existing_on_approval=True, move_alias_on_approval="champion",
    )
    registry_actions.version_transition(parker, name="fraud", version="1", stage="Production")
    registry_actions.alias_set(parker, name="fraud", alias="champion", version="1")
    seq = _last_seq()
    workflow_actions.transition_request_create(
        parker, name="fraud", version="2", stage="Production", comment="ready for prod",
    )
    # jenkins/* checks come from Modelgate's Jenkins integration, which reports as the system.
    workflow_actions.check_report(
        Ctx.system(), name="fraud", version="2", check="jenkins/validation", status="success",
        details_url="https://ci.example/1", summary="",
    )
    workflow_actions.transition_approve(
        marygrace, name="fraud", version="2", stage="Production", comment="offline metrics verified",
    )
    workflow_actions.transition_approve(Ctx(user=sam), name="fraud", version="2", stage="Production", comment="")
    comment = workflow_actions.comment_create(parker, name="fraud", version="2", comment="Shipped.")
    workflow_actions.comment_update(parker, comment_id=comment.pk, comment="Shipped today.")
    workflow_actions.comment_delete(marygrace, comment_id=comment.pk)
    assert _sentences_since(seq) == [
        "parker requested Production: ready for prod",
        "system reported jenkins/validation: success",
        "marygrace approved a transition to Production (1 of 2 approvals): offline metrics verified",
        "sam approved a transition to Production (version 2 moved to Production; version 1 "
        "archived; @champion moved from version 1 to version 2)",
        "parker commented: Shipped.",
        "parker edited a comment: Shipped today.",
        "marygrace deleted a comment by parker",
    ]


def test_rejections_cancellations_closings_and_alias_requests_read_as_sentences(people, fraud):
    parker, marygrace, _ = (Ctx(user=u) for u in people)
    seq = _last_seq()
    workflow_actions.transition_request_create(parker, name="fraud", version="2", stage="Staging")
    workflow_actions.transition_reject(
        marygrace, name="fraud", version="2", stage="Staging", comment="needs more data",
    )
    workflow_actions.transition_request_create(parker, name="fraud", version="2", stage="Production")
    workflow_actions.transition_request_cancel(
        parker, name="fraud", version="2", stage="Production", creator="parker",
    )
    workflow_actions.transition_request_create(parker, name="fraud", version="1", alias="champion")
    workflow_actions.transition_approve(marygrace, name="fraud", version="1", alias="champion")
    workflow_actions.transition_request_create(parker, name="fraud", version="2", stage="Staging")
    registry_actions.version_transition(parker, name="fraud", version="2", stage="Archived")
    workflow_actions.transition_approve(marygrace, name="fraud", version="2", stage="Staging")
    assert _sentences_since(seq) == [
        "parker requested Staging",
        "marygrace rejected a transition to Staging: needs more data",
        "parker requested Production",
        "parker cancelled the request for Production",
        "parker asked to point @champion at version 1",
        "marygrace approved a move of alias @champion (@champion set to version 1)",
        "parker requested Staging",
        "parker moved version 2 to Archived",
        "marygrace closed the request for Staging: version 2 moved from None to Archived after "
        "the request was made",
    ]


def test_policy_and_permission_changes_read_as_sentences(people, fraud):
    parker = Ctx(user=people[0])
    seq = _last_seq()
    workflow_actions.stage_policy_set(
        parker, name="fraud", stage="Production", required_approvals=2, require_request=True,
    )
    workflow_actions.stage_policy_set(parker, name="fraud", stage="Production", required_approvals=1)
    workflow_actions.stage_policy_delete(parker, name="fraud", stage="Production")
    workflow_actions.alias_policy_set(parker, name="fraud", pattern="champion")
    registry_actions.model_permissions_change(
        parker, uid=fraud.uid, access_control_list=[{"user_name": "jenkins", "permission_level": "CAN_READ"}],
        replace=False,
    )
    sentences = _sentences_since(seq)
    assert sentences[0] == "parker set the Production policy for fraud (2 approvals, requests required)"
    assert sentences[1].startswith("parker changed the Production policy for fraud (1 approval")
    assert sentences[2] == "parker removed the Production policy for fraud"
    assert sentences[3].startswith("parker set the alias 'champion' policy for fraud (")
    assert "needs CAN_MANAGE_PRODUCTION_VERSIONS" in sentences[3]
    assert sentences[4] == "parker changed who may access fraud"


def test_every_event_has_words_of_its_own():
    for event in sorted(events.ALL):
        row = Activity(event=event, actor="parker", model_name="fraud", version=2, target="x", before={}, after={})
        sentence = describe(row)
        assert sentence.startswith("parker ") and "recorded" not in sentence, (event, sentence)


def test_an_unknown_event_or_an_odd_shape_still_reads_plainly():
    unknown = Activity(event="something.new", actor="parker", target="t1", comment="why", after={"a": 1})
    assert describe(unknown) == "parker recorded something.new (t1): why"
    odd = Activity(
        event=events.TRANSITION_REQUEST_APPROVED, actor="marygrace", version=2, target="Production",
        after={"alias_moved": "not a dict", "archived_versions": 7},
    )
    assert describe(odd) == "marygrace recorded transition_request.approved (Production)"
    odd_types = Activity(event=events.ALIAS_MOVED, actor="parker", before=["x"], after="y", target="champion", version=3)
    assert describe(odd_types) == "parker moved alias @champion to version 3"


def test_webhook_sentences_never_show_where_the_webhook_sends():
    # Readers' exports redact a webhook's URL, Jenkins job and errors (they may carry credentials
    # or name internal hosts); the sentences, which readers see too, leave them out.
    created = Activity(event=events.WEBHOOK_CREATED, actor="olivia", target="7", after={
        "id": "7", "name": "", "url": "https://bot:s3cret@jenkins.internal/hook", "jenkins_job": "deploy-fraud",
    })
    assert describe(created) == "olivia created webhook 7"
    tested = Activity(event=events.WEBHOOK_TESTED, actor="olivia", target="7", after={
        "status_code": None, "error": "connection refused by jenkins.internal:8080",
    })
    assert describe(tested) == "olivia sent a test event to webhook 7 (failed)"

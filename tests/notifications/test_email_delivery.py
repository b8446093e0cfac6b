"""Email as people get it: a real Celery worker (with its beat) sends through Django's SMTP
backend to a real SMTP server on 127.0.0.1. One worker serves the module."""

import pytest

from notifications import actions as notification_actions
from notifications.models import Email
from tests.notifications.conftest import PUBLIC_URL, body_of, subject_of
from tests.webhooks.conftest import wait_until
from workflows import actions as workflow_actions

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_reviewer_gets_the_request_by_email_with_its_link_and_comment(
        mail_worker, smtp, ctx_for, owner, reviewer, with_email, fraud):
    with_email(owner, reviewer)
    fraud()
    req = workflow_actions.transition_request_create(
        ctx_for(owner), name="fraud", version="2", stage="Production", comment="AUC 0.91 on the holdout",
    )

    (message,) = smtp.wait_for("reviewer@example.test")
    assert message["From"] == "modelgate@example.test" and message["To"] == "reviewer@example.test"
    assert subject_of(message) == "[Modelgate] Review requested: fraud v2 → Production by owner"
    assert message["Message-ID"] == Email.objects.get(user=reviewer).message_id
    body = body_of(message)
    assert f"Review the request: {PUBLIC_URL}/models/fraud/versions/2/#request-{req.pk}" in body
    assert "Comment:      AUC 0.91 on the holdout" in body
    assert "Why you got this: you may decide requests to move 'fraud' to Production" in body
    assert "To stop these: mute 'fraud'" in body
    assert smtp.to("owner@example.test") == []  # the requester asked; nobody tells them they did
    assert wait_until(lambda: Email.objects.get(user=reviewer).status == Email.SENT, what="the email SENT")


def test_the_requester_gets_the_decision(mail_worker, smtp, ctx_for, owner, reviewer, with_email, fraud):
    with_email(owner, reviewer)
    fraud()
    workflow_actions.transition_request_create(ctx_for(owner), name="fraud", version="2", stage="Production")
    workflow_actions.transition_approve(ctx_for(reviewer), name="fraud", version="2", stage="Production",
                                        comment="ship it")

    (message,) = smtp.wait_for("owner@example.test")
    assert subject_of(message) == "[Modelgate] Approved: fraud v2 → Production"
    body = body_of(message)
    assert "reviewer approved the request to move version 2 of 'fraud' to Production" in body
    assert "the version is in Production" in body and "Comment: ship it" in body
    assert "Why you got this: you asked to move 'fraud' version 2 to Production." in body


def test_a_muted_model_sends_nothing(mail_worker, smtp, ctx_for, owner, reviewer, with_email, fraud):
    with_email(reviewer)
    fraud("fraud")
    fraud("churn")
    notification_actions.model_subscription_set(ctx_for(reviewer), name="fraud", state="mute")
    workflow_actions.transition_request_create(ctx_for(owner), name="fraud", version="2", stage="Production")
    workflow_actions.transition_request_create(ctx_for(owner), name="churn", version="2", stage="Production")

    # The churn request's email is sent after fraud's would have been: by then nothing came.
    (message,) = smtp.wait_for("reviewer@example.test")
    assert subject_of(message) == "[Modelgate] Review requested: churn v2 → Production by owner"
    wait_until(lambda: not Email.objects.exclude(status=Email.SENT).exists(), what="every email sent")
    assert [subject_of(m) for m in smtp.to("reviewer@example.test")] == [subject_of(message)]


def test_a_digest_collects_several_events_into_one_message(mail_worker, smtp, ctx_for, owner, reviewer, with_email, fraud):
    with_email(reviewer)
    fraud(versions=3)
    notification_actions.notification_settings_set(ctx_for(reviewer), delivery="digest")
    for number in ("1", "2", "3"):
        workflow_actions.transition_request_create(ctx_for(owner), name="fraud", version=number, stage="Production")
    assert not Email.objects.exists()  # held for the digest (MODELGATE_NOTIFY_DIGEST_SECONDS=3 here)

    (message,) = smtp.wait_for("reviewer@example.test", timeout=30)
    assert subject_of(message) == "[Modelgate] Your digest: 3 updates"
    body = body_of(message)
    for number in (1, 2, 3):
        assert f"{number}. Review requested: fraud v{number} → Production by owner" in body
        assert f"{PUBLIC_URL}/models/fraud/versions/{number}/#request-" in body
    assert body.count("Why you got this: you may decide requests to move 'fraud' to Production") == 3
    assert f"choose what email you get at {PUBLIC_URL}/notifications/" in body
    wait_until(lambda: Email.objects.filter(is_digest=True, status=Email.SENT).count() == 1, what="the digest SENT")
    assert Email.objects.count() == 1


def test_smtp_down_for_a_while_then_up_every_message_arrives_once(
        mail_worker, smtp, ctx_for, owner, reviewer, admin_user, with_email, fraud):
    with_email(owner, reviewer)  # admin_user has an address of its own, and may decide everything
    fraud(versions=4)
    smtp.stop()
    for number in ("1", "2", "3", "4"):
        workflow_actions.transition_request_create(ctx_for(owner), name="fraud", version=number, stage="Production")
    workflow_actions.comment_create(ctx_for(owner), name="fraud", version="1", comment="thoughts?")
    workflow_actions.comment_create(ctx_for(reviewer), name="fraud", version="1", comment="looks good")
    expected = set(Email.objects.values_list("message_id", flat=True))
    assert len(expected) == 9  # 4 requests to reviewer and admin, the reply to owner

    # Every email is tried, refused, and waits for its retry.
    wait_until(lambda: Email.objects.filter(attempts__gte=2, status=Email.PENDING).count() == 9,
               timeout=30, what="every email to fail twice")
    assert "ConnectionRefusedError" in Email.objects.first().last_error
    smtp.start()

    wait_until(lambda: Email.objects.filter(status=Email.SENT).count() == 9, timeout=30, what="every email SENT")
    received = [m["Message-ID"] for m in smtp.messages]
    assert sorted(received) == sorted(expected)  # each once, none lost
    assert {m["To"] for m in smtp.messages} == {"reviewer@example.test", "admin@example.com", "owner@example.test"}

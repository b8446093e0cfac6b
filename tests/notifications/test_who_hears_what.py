"""Who is told of what, by default and by choice, as the outbox writes it in the recording
transaction (no worker needed: the rows are the outbox). Sending is test_email_delivery.py."""

import pytest
from django.test import Client

from notifications import actions as notification_actions
from notifications.models import Email, Notice
from tests.notifications.conftest import PUBLIC_URL
from workflows import actions as workflow_actions


@pytest.fixture(autouse=True)
def public_url(settings):
    settings.MODELGATE_PUBLIC_URL = PUBLIC_URL


def emails_to(user):
    return list(Email.objects.filter(user=user).order_by("pk"))


def request_production(ctx_for, owner, comment="please ship v2", version="2"):
    return workflow_actions.transition_request_create(
        ctx_for(owner), name="fraud", version=version, stage="Production", comment=comment,
    )


def test_a_new_request_tells_whoever_may_decide_it_with_its_facts_and_a_working_link(
        ctx_for, owner, reviewer, outsider, with_email, fraud):
    with_email(owner, reviewer, outsider)
    fraud()
    req = request_production(ctx_for, owner)

    (email,) = emails_to(reviewer)
    assert email.to_address == "reviewer@example.test"
    assert email.subject == "[Modelgate] Review requested: fraud v2 → Production by owner"
    link = f"{PUBLIC_URL}/models/fraud/versions/2/#request-{req.pk}"
    for fact in ("Model:        fraud", "Version:      2 (now in None)", "Target:       Production",
                 "Requested by: owner", "Comment:      please ship v2", "Checks:       none required",
                 "Approvals:    0 of 1", link):
        assert fact in email.body
    assert "Why you got this: you may decide requests to move 'fraud' to Production (you hold CAN_MANAGE_PRODUCTION_VERSIONS)" in email.body
    assert f"To stop these: mute 'fraud' on its page, {PUBLIC_URL}/models/fraud/" in email.body
    assert f"{PUBLIC_URL}/notifications/" in email.body
    # Neither the requester nor someone who may only read hears of it.
    assert emails_to(owner) == [] and emails_to(outsider) == []
    # The link is a page the reviewer can open.
    client = Client()
    client.force_login(reviewer)
    page = client.get(link.removeprefix(PUBLIC_URL).split("#")[0])
    assert page.status_code == 200 and f'id="request-{req.pk}"' in page.content.decode()


def test_an_approver_team_member_is_told_why_and_required_checks_are_listed(
        ctx_for, owner, outsider, admin_user, with_email, fraud):
    from django.contrib.auth.models import Group

    with_email(outsider)
    fraud()
    team = Group.objects.create(name="risk-approvers")
    outsider.groups.add(team)
    workflow_actions.stage_policy_set(ctx_for(admin_user), name="fraud", stage="Production",
                                      approver_team=team, required_checks=["ci/unit"], required_approvals=2)
    request_production(ctx_for, owner)

    (email,) = emails_to(outsider)
    assert "(you are in the approver team 'risk-approvers')" in email.body
    assert "Checks:       ci/unit: not reported" in email.body
    assert "Approvals:    0 of 2" in email.body


def test_the_requester_hears_of_the_decision_and_the_decider_does_not(ctx_for, owner, reviewer, with_email, fraud):
    with_email(owner, reviewer)
    fraud()
    request_production(ctx_for, owner)
    workflow_actions.transition_reject(ctx_for(reviewer), name="fraud", version="2", stage="Production",
                                       comment="metrics regressed")

    (email,) = emails_to(owner)
    assert email.subject == "[Modelgate] Rejected: fraud v2 → Production"
    assert "reviewer rejected the request" in email.body and "Comment: metrics regressed" in email.body
    assert "Why you got this: you asked to move 'fraud' version 2 to Production." in email.body
    assert [e.subject for e in emails_to(reviewer)] == ["[Modelgate] Review requested: fraud v2 → Production by owner"]


def test_the_requester_hears_when_the_system_closes_their_request(ctx_for, owner, reviewer, with_email, fraud):
    from registry import actions as registry_actions

    with_email(owner)
    fraud()
    request_production(ctx_for, owner)
    registry_actions.version_transition(ctx_for(reviewer), name="fraud", version="2", stage="Staging")
    from workflows.models import TransitionRequest
    from workflows.selectors import stale_request_ids

    (request_id,) = stale_request_ids()
    from audit.ctx import Ctx

    workflow_actions.transition_request_close_stale(Ctx.system(), request_id=request_id)
    assert TransitionRequest.objects.get(pk=request_id).status == "CLOSED"
    (email,) = emails_to(owner)
    assert email.subject == "[Modelgate] Closed: fraud v2 → Production"
    assert "The system closed the request" in email.body and "moved from None to Staging" in email.body


def test_a_failed_required_check_tells_the_requester_and_a_passing_one_does_not(
        ctx_for, owner, ci_bot, admin_user, grant, with_email, fraud):
    with_email(owner)
    model = fraud()
    grant(model, ci_bot, level="CAN_EDIT")
    workflow_actions.stage_policy_set(ctx_for(admin_user), name="fraud", stage="Production", required_checks=["ci/unit"])
    request_production(ctx_for, owner)
    workflow_actions.check_report(ctx_for(ci_bot), name="fraud", version="2", check="ci/other", status="failure")
    workflow_actions.check_report(ctx_for(ci_bot), name="fraud", version="2", check="ci/unit", status="success")
    assert emails_to(owner) == []
    workflow_actions.check_report(ctx_for(ci_bot), name="fraud", version="2", check="ci/unit", status="failure",
                                  summary="3 tests failed", details_url="https://ci.example.test/42")

    (email,) = emails_to(owner)
    assert email.subject == "[Modelgate] Check ci/unit failure: fraud v2"
    assert "Summary: 3 tests failed" in email.body and "Details: https://ci.example.test/42" in email.body
    assert "its approval requires the check that failed" in email.body


def test_a_comment_tells_the_others_in_its_thread(ctx_for, owner, reviewer, outsider, with_email, fraud):
    with_email(owner, reviewer, outsider)
    fraud()
    workflow_actions.comment_create(ctx_for(owner), name="fraud", version="1", comment="is v1 calibrated?")
    assert Email.objects.count() == 0
    workflow_actions.comment_create(ctx_for(reviewer), name="fraud", version="1", comment="yes, see the report")

    (email,) = emails_to(owner)
    assert email.subject == "[Modelgate] reviewer commented on fraud v1"
    assert "yes, see the report" in email.body and f"{PUBLIC_URL}/models/fraud/versions/1/#h-comments" in email.body
    assert "Why you got this: you commented on 'fraud' version 1." in email.body
    assert emails_to(reviewer) == [] and emails_to(outsider) == []


def test_followers_hear_of_new_versions_and_a_muted_model_sends_nothing(ctx_for, owner, reviewer, outsider, with_email, fraud):
    from registry import actions as registry_actions

    with_email(reviewer, outsider)
    fraud()
    notification_actions.model_subscription_set(ctx_for(outsider), name="fraud", state="follow")
    notification_actions.model_subscription_set(ctx_for(reviewer), name="fraud", state="mute")
    registry_actions.version_create(ctx_for(owner), name="fraud", source="s3://bucket/fraud/3")
    registry_actions.version_tag_set(ctx_for(owner), name="fraud", version="3", key="auc", value="0.91")
    registry_actions.version_transition(ctx_for(owner), name="fraud", version="1", stage="Staging")
    request_production(ctx_for, owner, version="3")

    assert [e.subject for e in emails_to(outsider)] == [
        "[Modelgate] owner registered version 3 of 'fraud'",
        "[Modelgate] owner moved version 1 of 'fraud' to Staging",
        "[Modelgate] Review requested: fraud v3 → Production by owner",
    ]
    assert f"{PUBLIC_URL}/models/fraud/versions/1/" in emails_to(outsider)[1].body
    assert "Why you got this: you follow 'fraud'." in emails_to(outsider)[1].body
    assert emails_to(reviewer) == [] and Notice.objects.filter(user=reviewer).count() == 0


def test_people_without_email_service_accounts_and_no_email_choice_are_skipped(
        ctx_for, owner, reviewer, outsider, grant, with_email, fraud):
    with_email(outsider)  # reviewer has no address
    model = fraud()
    grant(model, outsider, level="CAN_MANAGE_PRODUCTION_VERSIONS")
    notification_actions.notification_settings_set(ctx_for(outsider), delivery="off")
    request_production(ctx_for, owner)
    assert Email.objects.count() == 0 and Notice.objects.count() == 0


def test_a_digest_reader_gets_notices_held_not_emails(ctx_for, owner, reviewer, with_email, fraud):
    with_email(reviewer)
    fraud()
    notification_actions.notification_settings_set(ctx_for(reviewer), delivery="digest")
    request_production(ctx_for, owner)
    workflow_actions.transition_request_create(ctx_for(owner), name="fraud", version="1", stage="Production")

    assert Email.objects.count() == 0
    held = list(Notice.objects.filter(user=reviewer, email__isnull=True).order_by("activity_seq"))
    assert [n.subject for n in held] == [
        "[Modelgate] Review requested: fraud v2 → Production by owner",
        "[Modelgate] Review requested: fraud v1 → Production by owner",
    ]


def test_a_person_who_can_no_longer_read_the_model_is_not_told(ctx_for, owner, outsider, with_email, fraud, settings):
    from registry import actions as registry_actions

    with_email(outsider)
    fraud()
    notification_actions.model_subscription_set(ctx_for(outsider), name="fraud", state="follow")
    settings.MODELGATE_DEFAULT_LEVEL = "NONE"
    registry_actions.version_create(ctx_for(owner), name="fraud", source="s3://bucket/fraud/3")
    assert emails_to(outsider) == []


def test_a_registry_wide_releaser_and_a_registry_admin_may_decide_so_are_told(
        ctx_for, owner, outsider, admin_user, with_email, fraud):
    from registry import actions as registry_actions
    from tests.conftest import access_entry

    with_email(outsider)  # admin_user has admin@example.com
    fraud()
    registry_actions.registry_permissions_change(
        ctx_for(admin_user), access_control_list=[access_entry(outsider, "CAN_MANAGE_PRODUCTION_VERSIONS")],
        replace=False,
    )
    request_production(ctx_for, owner)
    assert "(you hold CAN_MANAGE_PRODUCTION_VERSIONS)" in emails_to(outsider)[0].body
    assert "(you hold CAN_MANAGE)" in emails_to(admin_user)[0].body


def test_the_email_outbox_is_in_the_admin_for_registry_admins_only(ctx_for, owner, reviewer, admin_user, with_email, fraud):
    with_email(reviewer)
    fraud()
    request_production(ctx_for, owner)
    reviewer.is_staff = True
    reviewer.save()
    admin = Client()
    admin.force_login(admin_user)
    listing = admin.get("/admin/notifications/email/")
    assert listing.status_code == 200 and "reviewer@example.test" in listing.content.decode()
    staff = Client()
    staff.force_login(reviewer)
    assert staff.get("/admin/notifications/email/").status_code == 403

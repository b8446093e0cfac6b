"""`manage.py issue_token`: how operators bootstrap users, admins and CI service accounts."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from audit import events
from audit.models import Activity
from tests.conftest import events_since, last_seq


def issue_token(*args):
    out = StringIO()
    call_command("issue_token", *args, stdout=out)
    return out.getvalue().splitlines()


def authenticates(raw):
    response = APIClient().get(
        "/api/2.0/mlflow/registered-models/search", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    return response.status_code == 200


def test_issuing_a_token_for_a_new_superuser_prints_the_token_last(db):
    lines = issue_token("alice", "--create", "--superuser", "--name", "x")

    raw = lines[-1]
    assert raw.startswith("mgt_")
    assert lines[0] == "Created user alice."
    alice = User.objects.get(username="alice")
    assert alice.is_superuser and alice.is_staff
    assert not alice.has_usable_password()
    token = ApiToken.objects.get(user=alice)
    assert token.name == "x"
    assert token.prefix == raw[:12]
    assert authenticates(raw)


def test_issuing_a_token_for_an_existing_user_needs_no_create(owner):
    lines = issue_token("owner")

    assert len(lines) == 1
    assert ApiToken.objects.get(user=owner).name == "cli"
    assert authenticates(lines[-1])
    owner.refresh_from_db()
    assert not owner.is_superuser


def test_issuing_a_token_for_a_missing_user_without_create_is_an_error(db):
    with pytest.raises(CommandError, match=r"User 'ghost' does not exist \(pass --create\)"):
        issue_token("ghost")

    assert not User.objects.filter(username="ghost").exists()
    assert not ApiToken.objects.exists()


def test_superuser_promotes_an_existing_user(owner):
    issue_token("owner", "--superuser")

    owner.refresh_from_db()
    assert owner.is_superuser and owner.is_staff


def test_a_service_account_can_be_created_for_ci(db):
    raw = issue_token("jenkins", "--create", "--service-account", "--name", "ci")[-1]

    assert User.objects.get(username="jenkins").is_service_account
    assert authenticates(raw)


def test_a_token_can_be_issued_with_an_expiry(owner):
    issue_token("owner", "--expires-days", "30")

    token = ApiToken.objects.get(user=owner)
    assert token.expires_at is not None
    assert timedelta(days=29, hours=23) < token.expires_at - token.created_at <= timedelta(days=30)


def test_each_run_issues_a_new_token(owner):
    first = issue_token("owner")[-1]
    second = issue_token("owner")[-1]

    assert first != second
    assert authenticates(first) and authenticates(second)


def test_promoting_a_user_to_superuser_is_recorded_before_and_after(owner):
    seq = last_seq()

    issue_token("owner", "--superuser")

    assert events_since(seq) == [events.USER_UPDATED]
    row = Activity.objects.get(seq__gt=seq, event=events.USER_UPDATED)
    assert (row.actor, row.via, row.target) == ("system", "cli", "owner")
    assert row.before == {"is_staff": False, "is_superuser": False}
    assert row.after == {"is_staff": True, "is_superuser": True}


def test_creating_a_superuser_with_the_command_records_the_creation_and_the_promotion(db):
    seq = last_seq()

    issue_token("alice", "--create", "--superuser")

    assert events_since(seq) == [events.USER_CREATED, events.USER_UPDATED]
    created = Activity.objects.get(seq__gt=seq, event=events.USER_CREATED)
    assert (created.target, created.after["has_password"]) == ("alice", False)


def test_a_username_the_action_refuses_is_a_command_error_and_creates_nothing(db):
    with pytest.raises(CommandError, match="Invalid username"):
        issue_token("no spaces allowed", "--create")

    assert not User.objects.exists()
    assert not ApiToken.objects.exists()


def test_bootstrap_demo_records_the_admin_it_creates(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("bootstrap_demo", "--username", "demo", stdout=StringIO())

    row = Activity.objects.get(event=events.USER_CREATED)
    assert (row.target, row.via) == ("demo", "cli")
    assert (row.after["is_superuser"], row.after["has_password"]) == (True, True)

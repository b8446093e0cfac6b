"""The action contract (tests/contract.py) for accounts/actions.py: a successful call writes
exactly one activity with its event and hands it to the webhook outbox; a refused call, or
one whose activity cannot be recorded, leaves no user, team, token, grant or activity row
changed. A public action without a case fails
test_every_public_accounts_action_has_a_contract_case."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts import actions, signin
from accounts.models import ApiToken, User
from audit import events
from audit.ctx import Ctx
from tests.contract import (
    Case,
    assert_every_public_function_has_a_case,
    assert_failure_changes_nothing,
    assert_writes_exactly_one_activity,
)
from tests.registry.state import snapshot as registry_snapshot
from webhooks.actions import webhook_create


def snapshot():
    state = registry_snapshot()
    for table in (ApiToken, User.groups.through):
        state[table._meta.db_table] = list(table.objects.order_by("pk").values())
    state["users"] = list(User.objects.order_by("pk").values())
    state["teams"] = list(Group.objects.order_by("pk").values())
    return state


def user(username):
    return User.objects.get(username=username)


def team(name):
    return Group.objects.get(name=name)


CASES = [
    Case("token_create", events.TOKEN_CREATED,
         lambda ctx, w: actions.token_create(ctx, user=user("owner"), name="laptop"),
         lambda ctx, w: actions.token_create(
             Ctx(user=user("owner"), token_id=w["short_token"].pk), user=user("owner"), name="x",
             expires_at=w["short_token"].expires_at.replace(year=2100)),
         actor="admin"),
    Case("token_revoke", events.TOKEN_REVOKED,
         lambda ctx, w: actions.token_revoke(ctx, token=w["short_token"]),
         None, actor="admin"),
    Case("user_create", events.USER_CREATED,
         lambda ctx, w: actions.user_create(ctx, username="carol", password="carol-pw-1",
                                            teams=[team("risk")]),
         lambda ctx, w: actions.user_create(ctx, username="owner"),
         actor="admin"),
    Case("user_update", events.USER_UPDATED,
         lambda ctx, w: actions.user_update(ctx, user=user("owner"), is_superuser=True, teams=[]),
         lambda ctx, w: actions.user_update(Ctx(user=user("owner")), user=user("owner"), is_superuser=True),
         actor="admin"),
    Case("user_password_set", events.USER_PASSWORD_CHANGED,
         lambda ctx, w: actions.user_password_set(ctx, user=user("owner"), password="new-owner-pw-1"),
         lambda ctx, w: actions.user_password_set(ctx, user=user("owner"), password="short"),
         actor="admin"),
    Case("user_delete", events.USER_DELETED,
         lambda ctx, w: actions.user_delete(ctx, user=user("outsider")),
         lambda ctx, w: actions.user_delete(Ctx(user=user("owner")), user=user("outsider")),
         actor="admin"),
    Case("team_create", events.TEAM_CREATED,
         lambda ctx, w: actions.team_create(ctx, name="fraud-ops", members=[user("owner")]),
         lambda ctx, w: actions.team_create(ctx, name="risk"),
         actor="admin"),
    Case("team_update", events.TEAM_UPDATED,
         lambda ctx, w: actions.team_update(ctx, team=team("risk"), members=[user("outsider")]),
         lambda ctx, w: actions.team_update(ctx, team=team("risk"), name=""),
         actor="admin"),
    Case("team_delete", events.TEAM_DELETED,
         lambda ctx, w: actions.team_delete(ctx, team=team("risk")),
         lambda ctx, w: actions.team_delete(Ctx(user=user("owner")), team=team("risk")),
         actor="admin"),
    Case("sign_in_lock", events.SIGN_IN_LOCKED_OUT,
         lambda ctx, w: actions.sign_in_lock(
             ctx, scope=signin.USER, username="owner", address="10.0.0.1", failures=10),
         None, actor="system"),
]


@pytest.fixture
def world(ctx_for, owner, outsider, admin_user):
    """owner in team risk, an outsider, a short-lived token of owner's; and a registry-wide
    webhook on every event, so each activity makes one delivery."""
    admin = ctx_for(admin_user)
    actions.team_create(admin, name="risk", members=[owner])
    in_an_hour = timezone.now() + timedelta(hours=1)
    short, _ = actions.token_create(admin, user=owner, name="short", expires_at=in_an_hour)
    webhook_create(admin, flavor="modelgate", events=sorted(events.ALL), url="https://hooks.example.com/modelgate")
    return {"short_token": short}


@pytest.fixture
def ctx_of(ctx_for, admin_user):
    return lambda case: Ctx.system() if case.actor == "system" else ctx_for(admin_user)


def test_every_public_accounts_action_has_a_contract_case():
    assert_every_public_function_has_a_case(actions, CASES)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_successful_accounts_action_writes_exactly_one_activity(case, world, ctx_of):
    assert_writes_exactly_one_activity(case, ctx_of(case), world)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_failed_accounts_action_changes_nothing(case, world, ctx_of, failing_subscriber):
    assert_failure_changes_nothing(case, ctx_of(case), world, failing_subscriber, snapshot)

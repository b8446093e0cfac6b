"""Failed password sign-ins are limited per username and per client address, wherever a
password is checked (HTTP Basic, the admin login, django.contrib.auth.authenticate for the
sign-in page), with the counters in the shared cache so the limits hold across processes.
A lockout answers 429 REQUEST_LIMIT_EXCEEDED with Retry-After and is on the activity log."""

import base64
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import authenticate
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from accounts.signin import SignInThrottled
from audit import events
from audit.models import Activity
from tests.conftest import MlflowApi, assert_error

ROOT = Path(__file__).resolve().parents[2]


def basic(username, password, address="127.0.0.1"):
    """registered-models/search with Basic credentials, from `address`."""
    client = APIClient()
    pair = base64.b64encode(f"{username}:{password}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {pair}", REMOTE_ADDR=address)
    return MlflowApi(client).get("registered-models/search")


def admin_login(username, password):
    return Client().post("/admin/login/", {"username": username, "password": password, "next": "/admin/"})


@pytest.fixture
def limits(settings):
    """Small limits, so a test needs few attempts: 3 failures lock a username, 5 an address."""
    settings.MODELGATE_SIGNIN_MAX_FAILURES_PER_USER = 3
    settings.MODELGATE_SIGNIN_MAX_FAILURES_PER_ADDRESS = 5
    settings.MODELGATE_SIGNIN_FAILURE_WINDOW_SECONDS = 300
    settings.MODELGATE_SIGNIN_LOCKOUT_SECONDS = 300
    return settings


def assert_throttled(response):
    assert_error(response, 429, "REQUEST_LIMIT_EXCEEDED", "Too many failed sign-ins")
    assert 295 <= int(response["Retry-After"]) <= 300


def test_wrong_basic_passwords_lock_the_username_out_with_429_and_retry_after(owner, reviewer, limits):
    assert [basic("owner", "wrong").status_code for _ in range(2)] == [401, 401]

    assert_throttled(basic("owner", "wrong"))
    # Locked out: the right password is refused too, before it is even checked.
    assert_throttled(basic("owner", "owner-pw-123"))
    # Another user from the same address is not.
    assert basic("reviewer", "reviewer-pw-123").status_code == 200


def test_a_lockout_is_recorded_once_with_who_and_where_but_no_password(owner, limits):
    for _ in range(6):
        basic("owner", "wrong-pw-guess")

    (row,) = Activity.objects.filter(event=events.SIGN_IN_LOCKED_OUT)
    assert (row.actor, row.via, row.target, row.client_ip) == ("system", "system", "owner", "127.0.0.1")
    assert row.after == {
        "scope": "user", "username": "owner", "address": "127.0.0.1", "failures": 3,
        "locked_for_seconds": 300, "path": "/api/2.0/mlflow/registered-models/search",
    }
    assert "wrong-pw-guess" not in str(row.after)


def test_wrong_passwords_for_many_usernames_lock_the_address_out(owner, limits):
    for name in ("ann", "bob", "cat", "dan"):
        assert basic(name, "guess").status_code == 401

    assert_throttled(basic("eve", "guess"))
    assert_throttled(basic("owner", "owner-pw-123"))
    assert basic("owner", "owner-pw-123", address="10.0.0.2").status_code == 200
    row = Activity.objects.get(event=events.SIGN_IN_LOCKED_OUT)
    assert (row.target, row.after["scope"], row.after["failures"]) == ("127.0.0.1", "address", 5)


def test_a_right_password_clears_the_usernames_failures(owner, limits):
    basic("owner", "wrong")
    basic("owner", "wrong")
    assert basic("owner", "owner-pw-123").status_code == 200

    assert [basic("owner", "wrong").status_code for _ in range(2)] == [401, 401]


def test_the_lockout_ends_after_the_lockout_seconds(owner, limits):
    limits.MODELGATE_SIGNIN_LOCKOUT_SECONDS = 1
    for _ in range(3):
        basic("owner", "wrong")
    assert basic("owner", "owner-pw-123").status_code == 429

    time.sleep(1.1)

    assert basic("owner", "owner-pw-123").status_code == 200


def test_a_limit_of_zero_turns_the_limit_off(owner, limits):
    limits.MODELGATE_SIGNIN_MAX_FAILURES_PER_USER = 0
    limits.MODELGATE_SIGNIN_MAX_FAILURES_PER_ADDRESS = 0

    assert {basic("owner", "wrong").status_code for _ in range(8)} == {401}
    assert not Activity.objects.filter(event=events.SIGN_IN_LOCKED_OUT).exists()


def test_the_admin_login_counts_and_obeys_the_same_lockout(admin_user, limits):
    assert basic("admin", "wrong").status_code == 401
    assert admin_login("admin", "wrong").status_code == 200  # the form again, with its error

    response = admin_login("admin", "wrong")
    assert response.status_code == 429
    assert 295 <= int(response["Retry-After"]) <= 300
    assert "Too many failed sign-ins" in response.content.decode()

    refused = admin_login("admin", "admin-pw-123")
    assert refused.status_code == 429 and "_auth_user_id" not in refused.wsgi_request.session
    assert_throttled(basic("admin", "admin-pw-123"))
    assert Activity.objects.get(event=events.SIGN_IN_LOCKED_OUT).after["path"] == "/admin/login/"


def test_django_authenticate_raises_sign_in_throttled_for_a_sign_in_page(owner, limits):
    """What the sign-in page calls: authenticate() raises SignInThrottled (with retry_after)
    instead of answering None, so the page can say why."""
    request = RequestFactory().post("/signin/")
    for _ in range(2):
        assert authenticate(request, username="owner", password="wrong") is None

    with pytest.raises(SignInThrottled) as raised:
        authenticate(request, username="owner", password="wrong")
    assert 295 <= raised.value.retry_after <= 300
    with pytest.raises(SignInThrottled):
        authenticate(request, username="owner", password="owner-pw-123")


def test_failures_in_another_process_count_here(owner, limits):
    """Two web processes share the counters (Django's cache on Redis): two failures in
    another process and one here lock the username out."""
    db = django_settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": django_settings.REDIS_URL,
        "MODELGATE_SIGNIN_MAX_FAILURES_PER_USER": "3",
    }
    code = (
        "import django; django.setup()\n"
        "from django.contrib.auth import authenticate\n"
        "from django.test import RequestFactory\n"
        "for _ in range(2):\n"
        "    assert authenticate(RequestFactory().get('/'), username='owner', password='wrong') is None\n"
    )
    other = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=60)
    assert other.returncode == 0, other.stderr

    assert_throttled(basic("owner", "wrong"))

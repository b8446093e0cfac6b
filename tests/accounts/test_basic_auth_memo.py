"""The Basic-auth memo (MODELGATE_BASIC_AUTH_CACHE_SECONDS) remembers a verified password only
as long as it is the user's password: it is keyed on the stored password hash, so a password
change ends it at once, in every worker process, whatever the cache."""

import base64

from rest_framework.test import APIClient

from accounts.models import User

URL = "/api/2.0/mlflow/registered-models/search"


def basic_get(username, password):
    pair = base64.b64encode(f"{username}:{password}".encode()).decode()
    return APIClient().get(URL, HTTP_AUTHORIZATION=f"Basic {pair}")


def test_the_old_password_stops_working_at_once_after_a_password_change(owner):
    assert basic_get("owner", "owner-pw-123").status_code == 200  # now remembered

    owner.set_password("a-new-pw-456")
    owner.save()

    assert basic_get("owner", "owner-pw-123").status_code == 401
    assert basic_get("owner", "a-new-pw-456").status_code == 200


def test_a_password_changed_by_another_process_ends_the_memo_here(owner):
    """Another worker changes the password: this process reads the new hash from the
    database, so its remembered entry no longer matches."""
    assert basic_get("owner", "owner-pw-123").status_code == 200

    other_process_view = User.objects.get(pk=owner.pk)
    other_process_view.set_password("a-new-pw-456")
    User.objects.filter(pk=owner.pk).update(password=other_process_view.password)

    assert basic_get("owner", "owner-pw-123").status_code == 401


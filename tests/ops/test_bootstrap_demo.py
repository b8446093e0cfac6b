"""`manage.py bootstrap_demo` (what `make run` prints): the address it was started on, and one
demo token that stays the same from run to run (never a pile of valid ones)."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import ApiToken
from audit.models import Activity
from tests.conftest import last_seq

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def bootstrap(**options):
    out = StringIO()
    call_command("bootstrap_demo", stdout=out, **options)
    text = out.getvalue()
    token = re.search(r"MLFLOW_TRACKING_TOKEN=(\S+)", text).group(1)
    return text, token


def usable_demo_tokens():
    return list(ApiToken.objects.usable().filter(user__username="admin", name="make-run"))


def test_the_printed_registry_uri_is_the_host_and_port_the_server_was_started_on():
    text, _ = bootstrap(host="127.0.0.1", port=8100)
    assert "export MLFLOW_REGISTRY_URI=http://127.0.0.1:8100 " in text


@pytest.mark.parametrize(("host", "uri"), [
    ("0.0.0.0", "http://127.0.0.1:8200"),  # listening everywhere: reachable on loopback
    ("::", "http://[::1]:8200"),
    ("::1", "http://[::1]:8200"),
    ("registry.internal", "http://registry.internal:8200"),
])
def test_a_wildcard_or_ipv6_host_is_printed_as_an_address_a_client_can_use(host, uri):
    text, _ = bootstrap(host=host, port=8200)
    assert f"export MLFLOW_REGISTRY_URI={uri} " in text


def test_a_second_run_reuses_the_demo_token_instead_of_minting_another():
    _, first = bootstrap()
    seq = last_seq()
    _, second = bootstrap()
    assert second == first
    assert len(usable_demo_tokens()) == 1
    assert Activity.objects.filter(seq__gt=seq).count() == 0


def test_when_the_saved_token_is_gone_a_new_one_replaces_it_and_the_old_one_is_revoked(var_dir):
    _, first = bootstrap()
    (var_dir / "admin-token.txt").unlink()
    seq = last_seq()
    _, second = bootstrap()
    assert second != first
    [token] = usable_demo_tokens()
    assert token.prefix == second[:12]
    assert list(Activity.objects.filter(seq__gt=seq).values_list("event", flat=True)) == [
        "api_token.created", "api_token.revoked"]


def test_a_saved_token_that_was_revoked_is_replaced(var_dir):
    _, first = bootstrap()
    ApiToken.objects.filter(prefix=first[:12]).update(revoked_at="2020-01-01T00:00Z")
    _, second = bootstrap()
    assert second != first
    assert [t.prefix for t in usable_demo_tokens()] == [second[:12]]
    assert (var_dir / "admin-token.txt").stat().st_mode & 0o777 == 0o600

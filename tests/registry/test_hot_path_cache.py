"""The hot path's cache (registry/api/hot.py): alias lookups and get-version are served from a
per-process cache, and every change takes effect on the very next request in every server
process: a moved alias, a new tag, a revoked grant, a revoked token, an expired token."""

import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import RequestFactory
from django.utils import timezone

from accounts.actions import token_create, token_revoke
from accounts.models import ApiToken
from audit.ctx import Ctx
from config.wsgi import application
from registry import actions
from registry.api import hot
from tests.conftest import access_entry
from tests.ops.test_multi_node import Node, _free_port, _serving
from tests.webhooks.conftest import worker_database_url

BIN = Path(sys.executable).parent
PROCESSES = 3
ROUNDS = 6 * PROCESSES  # a fresh connection each: the kernel spreads them over the processes


@pytest.fixture
def model_with_champion(owner_ctx):
    model = actions.model_create(owner_ctx, name="fraud")
    for n in (1, 2):
        actions.version_create(owner_ctx, name="fraud", source=f"s3://models/fraud/{n}")
    actions.alias_set(owner_ctx, name="fraud", alias="champion", version=1)
    return model


# In process, through the WSGI application gunicorn serves: what is cached, what never is -----

class Answer:
    def __init__(self, status, headers, body):
        self.status_code, self.headers, self.content = int(status.split()[0]), dict(headers), body

    def json(self):
        return json.loads(self.content)


def wsgi_get(path, token, params, **headers):
    """GET through config.wsgi.application (HotPath in front of Django), as gunicorn calls it."""
    environ = RequestFactory().get(f"/api/2.0/mlflow/{path}", params, HTTP_AUTHORIZATION=f"Bearer {token}",
                                   **headers).environ
    answered = {}

    def start_response(status, response_headers, exc_info=None):
        answered["status"], answered["headers"] = status, response_headers

    # As Django's test client does: the test's transaction is not a connection to close.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        result = application(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return Answer(answered["status"], answered["headers"], body)


@pytest.fixture
def bearer_get(issue_token):
    hot.forget_all()

    def make(user):
        token = issue_token(user)
        return lambda path, headers=None, **params: wsgi_get(path, token, params, **(headers or {}))

    return make


def test_a_repeated_alias_lookup_is_one_read_of_the_generations_and_is_logged_and_counted(
        db, owner, model_with_champion, bearer_get, django_assert_num_queries, caplog):
    get = bearer_get(owner)
    first = get("registered-models/alias", name="fraud", alias="champion")
    caplog.clear()
    with caplog.at_level("INFO", logger="ops.requests"), django_assert_num_queries(1) as captured:
        again = get("registered-models/alias", headers={"HTTP_X_REQUEST_ID": "lookup-42"}, name="fraud", alias="champion")
    assert captured.captured_queries[0]["sql"] == hot._GENERATIONS_SQL
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["Content-Type"] == first.headers["Content-Type"] == "application/json"
    assert again.json()["model_version"]["version"] == "1"
    # Its own request id, echoed and logged, like every request Django answers.
    assert first.headers["X-Request-Id"] != "lookup-42" == again.headers["X-Request-Id"]
    [line] = [r for r in caplog.records if r.name == "ops.requests"]
    assert (line.status, line.route, line.request_id) == (200, "api/2.0/mlflow/registered-models/alias", "lookup-42")
    # Middleware headers of the full answer are kept (the security middleware's, for one).
    assert again.headers["X-Content-Type-Options"] == first.headers["X-Content-Type-Options"] == "nosniff"


def test_get_version_is_cached_and_sees_a_new_description(db, owner, owner_ctx, model_with_champion,
                                                          bearer_get, django_assert_num_queries):
    get = bearer_get(owner)
    get("model-versions/get", name="fraud", version="2")
    with django_assert_num_queries(1):  # the generations
        assert get("model-versions/get", name="fraud", version="2").json()["model_version"]["description"] == ""
    actions.version_update(owner_ctx, name="fraud", version=2, description="retrained")
    assert get("model-versions/get", name="fraud", version="2").json()["model_version"]["description"] == "retrained"


def test_an_expired_token_is_refused_even_when_its_answer_is_cached(db, owner, model_with_champion):
    hot.forget_all()
    _, raw = token_create(Ctx.cli(owner), user=owner, name="short", expires_at=timezone.now() + timedelta(seconds=1))

    def get():
        return wsgi_get("registered-models/alias", raw, {"name": "fraud", "alias": "champion"})

    assert get().status_code == 200 and get().status_code == 200
    time.sleep(1.1)
    assert get().status_code == 401


def test_a_cached_answer_is_only_for_the_token_host_and_query_it_was_rendered_for(
        db, owner, outsider, settings, model_with_champion, bearer_get):
    settings.MODELGATE_DEFAULT_LEVEL = "NONE"
    as_owner, as_outsider = bearer_get(owner), bearer_get(outsider)
    assert as_owner("registered-models/alias", name="fraud", alias="champion").status_code == 200
    # The owner's answer is cached now; the outsider still gets the view's own answer.
    assert as_outsider("registered-models/alias", name="fraud", alias="champion").status_code == 404
    assert as_owner("registered-models/alias", name="fraud", alias="nope").status_code == 400
    # A Host Django refuses is refused, cached answer or not.
    assert as_owner("registered-models/alias", headers={"HTTP_HOST": "evil.example"},
                    name="fraud", alias="champion").status_code == 400
    # Other query strings, and text the database cannot hold, are Django's business.
    assert as_owner("registered-models/alias", name="fraud", alias="champion", extra="1").status_code == 200
    refused = as_owner("registered-models/alias", name="fraud\x00", alias="champion")
    assert refused.status_code == 400 and refused.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    # Errors are never remembered: a second miss is the view's answer again.
    assert as_owner("registered-models/alias", name="fraud", alias="nope").status_code == 400


def test_a_dropped_database_connection_is_reopened_and_the_lookup_answered(
        transactional_db, owner, model_with_champion, bearer_get):
    get = bearer_get(owner)
    assert get("registered-models/alias", name="fraud", alias="champion").status_code == 200
    connection.connection.close()  # as a database restart or an idle timeout would
    again = get("registered-models/alias", name="fraud", alias="champion")
    assert again.status_code == 200 and again.json()["model_version"]["version"] == "1"
    assert get("registered-models/alias", name="fraud", alias="champion").content == again.content


# Several server processes: read-after-write in every one of them ---------------------------

@pytest.fixture
def servers(transactional_db, tmp_path, settings):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": worker_database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "MODELGATE_ENCRYPTION_KEY": settings.MODELGATE_ENCRYPTION_KEY,
        "MODELGATE_VAR_DIR": str(tmp_path / "var"),
        "MODELGATE_DEFAULT_LEVEL": "NONE",  # reading takes a grant, so revoking one can show
        "LOG_LEVEL": "WARNING",
    }
    node = Node("web", [str(BIN / "gunicorn"), "-c", "python:ops.gunicorn", "config.wsgi:application",
                        "--bind", f"127.0.0.1:{port}", "--workers", str(PROCESSES)],
                env, tmp_path, _serving(url))
    try:
        node.wait_ready()
        yield url
    finally:
        node.stop()


def _answers(url, token, path, **params):
    """ROUNDS answers, each on a new connection (so over every process): (status, body)."""
    answers = []
    for _ in range(ROUNDS):
        response = requests.get(f"{url}/api/2.0/mlflow/{path}", params=params,
                                headers={"Authorization": f"Bearer {token}", "Connection": "close"}, timeout=10)
        answers.append((response.status_code, response.json()))
    return answers


def _champions(url, token):
    return {(status, body.get("model_version", {}).get("version"), body.get("error_code"))
            for status, body in _answers(url, token, "registered-models/alias", name="fraud", alias="champion")}


@pytest.mark.e2e
def test_every_server_process_sees_each_change_on_its_very_next_request(
        servers, owner, owner_ctx, reviewer, model_with_champion, issue_token):
    actions.model_permissions_change(owner_ctx, uid=model_with_champion.uid, replace=False,
                                     access_control_list=[access_entry(reviewer, "CAN_READ")])
    token = issue_token(reviewer)
    assert _champions(servers, token) == {(200, "1", None)}

    actions.alias_set(owner_ctx, name="fraud", alias="champion", version=2)
    assert _champions(servers, token) == {(200, "2", None)}

    actions.version_tag_set(owner_ctx, name="fraud", version=2, key="validated", value="yes")
    tags = {str(body["model_version"].get("tags"))
            for _, body in _answers(servers, token, "registered-models/alias", name="fraud", alias="champion")}
    assert tags == {str([{"key": "validated", "value": "yes"}])}

    actions.model_permissions_change(owner_ctx, uid=model_with_champion.uid, replace=True,
                                     access_control_list=[access_entry(owner, "CAN_MANAGE")])
    assert _champions(servers, token) == {(404, None, "RESOURCE_DOES_NOT_EXIST")}

    actions.model_permissions_change(owner_ctx, uid=model_with_champion.uid, replace=False,
                                     access_control_list=[access_entry(reviewer, "CAN_READ")])
    assert _champions(servers, token) == {(200, "2", None)}
    token_revoke(Ctx.cli(reviewer), token=ApiToken.objects.get(user=reviewer))
    assert {status for status, _ in _answers(servers, token, "registered-models/alias",
                                             name="fraud", alias="champion")} == {401}

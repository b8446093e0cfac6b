"""Logs are one JSON object a line, and every line logged while a request is served carries
that request's id, which the response returns in X-Request-Id."""

import io
import json
import logging

import pytest
from django.test import Client


@pytest.fixture
def log_lines():
    """What the configured console handler writes, as a list of lines (read after the call)."""
    [handler] = [h for h in logging.getLogger().handlers if getattr(h, "name", "") == "console"]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield lambda: stream.getvalue().splitlines()
    handler.setStream(previous)


@pytest.mark.django_db
def test_every_line_logged_during_a_request_is_json_with_the_request_id(log_lines, api):
    response = api.get("registered-models/get", name="missing")
    assert response.status_code == 404
    request_id = response["X-Request-Id"]
    lines = log_lines()
    assert lines, "the request logged nothing"
    records = [json.loads(line) for line in lines]
    assert {r["request_id"] for r in records} == {request_id}
    [access] = [r for r in records if r["logger"] == "ops.requests"]
    assert access["route"] == "api/2.0/mlflow/registered-models/get"
    assert access["status"] == 404 and access["method"] == "GET"
    assert access["path"] == "/api/2.0/mlflow/registered-models/get"
    assert access["duration_ms"] >= 0
    assert {"time", "level", "message"} <= set(access)


@pytest.mark.django_db
def test_a_line_logged_outside_any_request_has_no_request_id(log_lines, api):
    api.get("registered-models/get", name="missing")
    logging.getLogger("tests.ops").warning("between requests")
    record = json.loads(log_lines()[-1])
    assert record["message"] == "between requests"
    assert record["request_id"] is None


def test_an_exception_is_logged_on_one_line_with_its_traceback(log_lines):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("tests.ops").exception("it failed")
    [line] = log_lines()
    record = json.loads(line)
    assert record["level"] == "ERROR"
    assert "ValueError: boom" in record["exception"]


def test_a_sane_incoming_request_id_is_kept_and_returned():
    response = Client().get("/health", HTTP_X_REQUEST_ID="lb-7f3a.92_x")
    assert response["X-Request-Id"] == "lb-7f3a.92_x"


@pytest.mark.parametrize("incoming", ["", "has spaces", "x" * 65, "new\nline", "<script>"])
def test_an_insane_incoming_request_id_is_replaced_by_a_fresh_one(incoming):
    response = Client().get("/health", HTTP_X_REQUEST_ID=incoming)
    assert response["X-Request-Id"] != incoming
    assert len(response["X-Request-Id"]) == 32

"""A small client of the MLflow tracking server's REST API (MODELGATE_TRACKING_URI): the logged
models, runs and experiments versions come from. Reads only; nothing here writes to Modelgate.

Two kinds of failure, because the caller treats them differently:
- `TrackingUnreachable`: the server could not answer now (down, slow, 5xx, 429, refused our
  credentials): worth trying again later;
- `TrackingNotFound`: it answered that the thing does not exist (404, or 400 for an id it
  cannot read): trying again will not help.
"""

from urllib.parse import quote

import requests
from django.conf import settings

API = "/api/2.0/mlflow"


class TrackingUnreachable(Exception):
    pass


class TrackingNotFound(Exception):
    pass


def configured():
    return bool(settings.MODELGATE_TRACKING_URI)


def _get(path, params=None):
    base = settings.MODELGATE_TRACKING_URI.rstrip("/")
    headers, auth = {}, None
    if settings.MODELGATE_TRACKING_TOKEN:
        headers["Authorization"] = f"Bearer {settings.MODELGATE_TRACKING_TOKEN}"
    elif settings.MODELGATE_TRACKING_USERNAME:
        auth = (settings.MODELGATE_TRACKING_USERNAME, settings.MODELGATE_TRACKING_PASSWORD)
    try:
        response = requests.get(
            f"{base}{API}{path}", params=params, headers=headers, auth=auth,
            timeout=settings.MODELGATE_TRACKING_TIMEOUT, allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise TrackingUnreachable(f"the tracking server at {base} did not answer ({type(exc).__name__})") from exc
    if response.status_code in (400, 404):
        raise TrackingNotFound(_message(response))
    if response.status_code != 200:
        raise TrackingUnreachable(
            f"the tracking server at {base} answered HTTP {response.status_code}: {_message(response)}"
        )
    try:
        return response.json()
    except ValueError as exc:
        raise TrackingUnreachable(f"the tracking server at {base} answered something that is not JSON") from exc


def _message(response):
    try:
        return str(response.json().get("message") or response.reason)[:500]
    except (ValueError, AttributeError):
        return response.reason or f"HTTP {response.status_code}"


def _entity(path, params, what, *keys):
    """body[keys[0]][keys[1]]... of a GET, naming `what` when the server does not have it."""
    try:
        body = _get(path, params)
    except TrackingNotFound as exc:
        raise TrackingNotFound(f"{what} is not on the tracking server ({exc})") from None
    try:
        for key in keys:
            body = body[key]
    except (KeyError, TypeError) as exc:
        raise TrackingUnreachable(f"the tracking server's answer about {what} has no {keys[-1]}") from exc
    return body


def logged_model(model_id):
    """The logged model's info: model_id, experiment_id, source_run_id (may be empty), name."""
    return _entity(f"/logged-models/{quote(model_id, safe='')}", None, f"logged model {model_id}", "model", "info")


def run(run_id):
    """The run as MLflow's runs/get renders it: info, data (latest metrics, params, tags),
    inputs (dataset inputs)."""
    return _entity("/runs/get", {"run_id": run_id}, f"run {run_id}", "run")


def experiment(experiment_id):
    return _entity("/experiments/get", {"experiment_id": experiment_id}, f"experiment {experiment_id}", "experiment")


def run_url(experiment_id, run_id):
    """The run's page in the tracking UI."""
    base = (settings.MODELGATE_TRACKING_UI_URL or settings.MODELGATE_TRACKING_URI).rstrip("/")
    return f"{base}/#/experiments/{quote(experiment_id, safe='')}/runs/{quote(run_id, safe='')}"

"""End-to-end fixtures: a live Modelgate (pytest-django's live_server: real HTTP from a thread,
against the test database, with transactional db access) driven by the real mlflow client, and
a real MLflow tracking server in a subprocess for the split tracking/registry flow.

The mlflow client is configured only through the environment, as users configure it; every
variable is set with monkeypatch so nothing leaks between tests.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

# Variables that would change where or as whom the client talks; cleared so that the
# developer's own shell settings cannot leak into a test.
_CLIENT_ENV = (
    "MLFLOW_TRACKING_URI",
    "MLFLOW_REGISTRY_URI",
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_AUTH",
    "MLFLOW_TRACKING_AWS_SIGV4",
    "MLFLOW_EXPERIMENT_ID",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_RUN_ID",
    "MLFLOW_WORKSPACE",
)



@pytest.fixture
def mlflow_env(client_env):
    """The e2e tests' name for the shared clean client environment (tests/conftest.py)."""
    return client_env


@pytest.fixture
def registry_url(live_server):
    return live_server.url


@pytest.fixture
def mlflow_client(registry_url, mlflow_env, issue_token, owner):
    """The real MlflowClient talking to the live Modelgate as `owner`, with a bearer token
    from MLFLOW_TRACKING_TOKEN."""
    from mlflow import MlflowClient

    mlflow_env.setenv("MLFLOW_TRACKING_TOKEN", issue_token(owner))
    return MlflowClient(registry_uri=registry_url)


@pytest.fixture
def fluent_registry(mlflow_client, mlflow_env, registry_url):
    """The fluent API (mlflow.register_model, mlflow.search_*, models:/ URIs) finds the registry
    through MLFLOW_REGISTRY_URI; it acts as `owner` too."""
    mlflow_env.setenv("MLFLOW_REGISTRY_URI", registry_url)
    return registry_url


# A real MLflow tracking server --------------------------------------------------------------


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    # The job runner (two more processes) is for server-side GenAI jobs; tests need none.
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    return env


class _TrackingServer:
    """`mlflow server` in a subprocess, in its own process group, with a SQLite backend and
    proxied artifacts under `workdir`."""

    def __init__(self, workdir):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.log_path = workdir / "server.log"
        self.command = [
            str(Path(sys.executable).with_name("mlflow")), "server",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--backend-store-uri", f"sqlite:///{workdir / 'mlflow.db'}",
            "--artifacts-destination", str(workdir / "artifacts"),
            "--workers", "1",
        ]
        self.start()

    def start(self):
        """Start (or, after stop(), start again: same port, same store) the server."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.command, cwd=self.workdir, env=_server_env(), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"mlflow server exited with {self.proc.returncode}:\n"
                    f"{self.log_path.read_text()}"
                )
            try:
                if requests.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not answer /health:\n{self.log_path.read_text()}")
            time.sleep(0.2)

    def stop(self):
        # `mlflow server` runs uvicorn as a child: end the whole group we started.
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue


@pytest.fixture(scope="session", autouse=True)
def _tracking_server_boot(request, tmp_path_factory):
    """Start the tracking server as soon as the e2e session starts, if any collected test uses
    it: it takes 5-10 s to boot, which then overlaps with the tests that run before it.
    Stopped at the end of the session."""
    if not any("tracking_server" in getattr(item, "fixturenames", ()) for item in request.session.items):
        yield None
        return
    server = _TrackingServer(tmp_path_factory.mktemp("tracking-server"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def tracking_server(_tracking_server_boot):
    """The URL of a real MLflow tracking server (runs, logged models, proxied artifacts),
    once it answers GET /health."""
    _tracking_server_boot.wait_ready()
    return _tracking_server_boot.url

"""`make run` and bin/run-local as a new user runs them, on the embedded default (SQLite and the
filesystem broker in a fresh MODELGATE_VAR_DIR; no DATABASE_URL or REDIS_URL): Ctrl-C or
SIGTERM stops the web server and the worker within 10 s, exits 0 or 130, and leaves nothing
running."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

BASE_DIR = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
STOP_WITHIN = 10.0


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def embedded_env(tmp_path_factory):
    """A new user's environment: nothing but PATH, HOME and where the data goes; migrated."""
    home = tmp_path_factory.mktemp("run-local")
    env = {
        "PATH": f"{VENV / 'bin'}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
        "MODELGATE_VAR_DIR": str(home / "var"), "STATIC_ROOT": str(home / "static"),
    }
    for folder in ("out", "processed", "control"):
        (home / "var" / "broker" / folder).mkdir(parents=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=BASE_DIR, env=env,
                   check=True, timeout=120)
    return env


def session_processes(session_id):
    """(pid, command) of every live process of this session: the ones it started and theirs.
    Zombies are dead, waiting only to be reaped, and are not counted."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[3]) == session_id and fields[0] != "Z":
            found.append((int(entry), command))
    return found


class Running:
    """A command in a session of its own, as a terminal runs it, its output in a file."""

    def __init__(self, command, env, log_path, port):
        self.port = port
        self.log_path = log_path
        with open(log_path, "wb") as log:
            # As from a terminal: a shell started in the background (CI's runner may be one)
            # inherits SIGINT ignored, and bash cannot trap a signal ignored on entry.
            self.proc = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    def output(self):
        return self.log_path.read_text(errors="replace")

    def wait_until_serving(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"exited with {self.proc.returncode}:\n{self.output()}"
            try:
                health = requests.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200
            except requests.RequestException:
                health = False
            if health and " ready." in self.output():  # the web answers and the worker consumes
                return
            time.sleep(0.2)
        self.kill()
        pytest.fail(f"not serving after {timeout}s:\n{self.output()}")

    def stop(self, deliver_signal):
        """Send the signal; return (exit status, seconds until the whole session was gone)."""
        started = time.monotonic()
        deliver_signal(self.proc.pid)
        try:
            status = self.proc.wait(timeout=STOP_WITHIN + 5)
        except subprocess.TimeoutExpired:
            status = None
        while session_processes(self.proc.pid) and time.monotonic() - started < STOP_WITHIN + 5:
            time.sleep(0.05)
        return status, time.monotonic() - started

    def kill(self):
        for pid, _ in session_processes(self.proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def start(embedded_env, tmp_path):
    started = []

    def run(*command):
        port = free_port()
        command = [part.format(port=port, venv=VENV) for part in command]
        running = Running(command, embedded_env, tmp_path / f"run-{len(started)}.log", port)
        started.append(running)
        running.wait_until_serving()
        return running

    yield run
    for running in started:  # whatever a failed test left behind
        running.kill()


def ctrl_c(pid):
    # A terminal's Ctrl-C: SIGINT to the foreground process group (here: the session leader's).
    os.killpg(pid, signal.SIGINT)


def sigterm(pid):
    os.kill(pid, signal.SIGTERM)


def assert_stopped_cleanly(running, status, took, expected_status):
    output = running.output()
    assert status in expected_status, output[-3000:]
    assert took < STOP_WITHIN, f"took {took:.1f}s:\n{output[-3000:]}"
    assert session_processes(running.proc.pid) == []
    for symptom in ("Segmentation fault", "RecursionError", "Traceback"):
        assert symptom not in output, output[-3000:]
    assert output.count("Warm shutdown") <= 1


@pytest.mark.parametrize(("deliver_signal", "expected_status"), [(sigterm, {0}), (ctrl_c, {130})],
                         ids=["SIGTERM", "Ctrl-C"])
def test_run_local_stops_web_and_worker_within_ten_seconds_and_leaves_nothing_running(
    start, deliver_signal, expected_status
):
    running = start("bin/run-local", "127.0.0.1", "{port}")
    status, took = running.stop(deliver_signal)
    assert_stopped_cleanly(running, status, took, expected_status)


def test_make_run_prints_its_real_address_and_ctrl_c_stops_everything(start):
    # The dependencies are installed already (-o: make does not reinstall them here).
    running = start("make", "-s", "-o", "{venv}/.run-deps", "run", "PORT={port}", "VENV={venv}")
    assert f"export MLFLOW_REGISTRY_URI=http://127.0.0.1:{running.port} " in running.output()
    status, took = running.stop(ctrl_c)
    # make passes the interrupt on: it dies of SIGINT, which a shell reports as 130.
    assert_stopped_cleanly(running, status, took, {130, -signal.SIGINT})

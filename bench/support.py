"""What the benchmarks share: throw-away PostgreSQL databases, server processes in process
groups of their own, free ports, and the refusal to talk to anything beyond this machine."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def only_loopback(url, what):
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"{what} must be on 127.0.0.1, not {host}: the benchmark talks to nothing else.")


def recreate_database(url):
    """Drop and create the database `url` names; returns the maintenance database's URL."""
    import psycopg

    only_loopback(url, "The benchmark's database")
    parts = urlsplit(url)
    admin = url.replace(parts.path, "/postgres", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parts.path.lstrip("/")}"')
    return admin


def drop_database(url):
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(url.replace(parts.path, "/postgres", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process (and its children) in a process group of its own, logging to a file."""

    def __init__(self, name, argv, env, log_dir):
        self.name, self.argv, self.env, self.log = name, argv, env, Path(log_dir) / f"{name}.log"
        self.proc = None

    def start(self, ready_url, timeout=90):
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.argv, cwd=BASE_DIR, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"{self.name} exited with {self.proc.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(ready_url, timeout=2):
                    return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        sys.exit(f"{self.name} did not answer {ready_url} within {timeout} s; see {self.log}")

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

"""Registry benchmark, side by side in one run: Modelgate, MLflow's own server and a raw WSGI
app (the ceiling), the same REST calls, load from wrk on this machine.

    .venv/bin/python bench/registry.py              (or: make bench)
    .venv/bin/python bench/registry.py --models 100000   (or: make bench MODELS=100000)

Modelgate runs under gunicorn (ops/gunicorn.py, --workers 4, the access log on, as deployed);
MLflow's server (the mlflow test dependency) with --workers 4; the raw WSGI app
(bench/raw_wsgi.py) under the same gunicorn settings as Modelgate. Both registries use
PostgreSQL on this machine, each a database of its own made afresh and dropped afterwards.
All three run at once and each call is driven against them back to back, so whatever else
the machine is doing weighs on them alike; the ratios are the figures to read. Every call runs
in 3 rounds (--rounds) of 5 s (--seconds), alternating between the servers, and the median
round is reported.

Calls (c = concurrent connections):
- alias lookup   GET registered-models/alias (name, champion), c=32
- get version    GET model-versions/get, c=32
- create version POST model-versions/create on one model, 8 writers (afterwards the versions
                 must be 1..N without a gap)
- create models  1,000 registered models (with a tag) by 8 writers, wall time
- search         GET registered-models/search, filter "name LIKE 'bench-%' AND tags.team = 'fraud'",
                 100 results, c=8
With --models N > 1000, Modelgate alone gets N models after the side-by-side run (the rest
inserted by SQL) and its search is measured again, to show whether its cost stays flat. Exit status 1 if a target is missed.
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.support import BASE_DIR, BIN, Server, drop_database, free_port, only_loopback, recreate_database  # noqa: E402

MODELGATE_DB = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/modelgate_bench")
MLFLOW_DB = os.environ.get("BENCH_MLFLOW_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mlflow_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
SEARCH_FILTER = "name LIKE 'bench-%' AND tags.team = 'fraud'"
TEAMS = ["fraud", "ads", "search"]


# Load -----------------------------------------------------------------------------------------

def wrk(url, *, connections, seconds, token=None, script=None):
    """Requests/s, p50 and p99 in ms, and the non-2xx count, from one wrk run."""
    argv = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if token:
        argv[1:1] = ["-H", f"Authorization: Bearer {token}"]
    if script:
        argv[1:1] = ["-s", script]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def _ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def call(base, method, path, body=None, token=None, query=None):
    url = f"{base}/api/2.0/mlflow/{path}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"{}")


def create_models(base, token, names, writers=8):
    """Wall seconds for `writers` threads to create `names` (each with a team tag)."""
    def one(i_name):
        i, name = i_name
        call(base, "POST", "registered-models/create", {"name": name, "tags": [{"key": "team", "value": TEAMS[i % 3]}]}, token)

    start = time.perf_counter()
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(one, enumerate(names)))
    return time.perf_counter() - start


def insert_models(database_url, start, stop):
    """Models bench-<start>..bench-<stop - 1>, each with its team tag, straight into Modelgate's
    tables: through the API, 99,000 more would take a quarter of an hour, and the scale run
    measures the search over them, not their creation (that is the 1,000-model run)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "WITH made AS ("
            " INSERT INTO registry_registeredmodel (uid, name, description, created_at, updated_at, next_version)"
            " SELECT md5('bench-' || i), 'bench-' || lpad(i::text, 6, '0'), '', now(), now(), 1"
            " FROM generate_series(%s, %s) AS i RETURNING id, name) "
            "INSERT INTO registry_registeredmodeltag (model_id, key, value) "
            "SELECT id, 'team', (ARRAY['fraud', 'ads', 'search'])[substr(name, 7)::int %% 3 + 1] FROM made",
            [start, stop - 1])
        conn.execute("ANALYZE")


def seed_hot_model(base, token):
    call(base, "POST", "registered-models/create", {"name": "bench-hot"}, token)
    for n in (1, 2, 3):
        call(base, "POST", "model-versions/create", {"name": "bench-hot", "source": f"s3://bench/hot/{n}"}, token)
    call(base, "POST", "registered-models/alias", {"name": "bench-hot", "alias": "champion", "version": "2"}, token)
    call(base, "POST", "registered-models/create", {"name": "bench-writes"}, token)


def write_script(workdir):
    path = Path(workdir) / "create_version.lua"
    path.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        'wrk.body = \'{"name": "bench-writes", "source": "s3://bench/writes/v"}\'\n'
    )
    return str(path)


LOOKUPS = {
    "alias": ("registered-models/alias?name=bench-hot&alias=champion", 32),
    "get_version": ("model-versions/get?name=bench-hot&version=2", 32),
    "search": ("registered-models/search?" + urllib.parse.urlencode({"filter": SEARCH_FILTER, "max_results": 100}), 8),
}


def median_round(rounds):
    """The round with the median requests/s (its latencies with it)."""
    return sorted(rounds, key=lambda r: r["rps"])[len(rounds) // 2]


def measure(targets, raw_url, workdir, seconds, rounds, models):
    """Each call against each registry back to back (and the raw app beside each lookup), so
    that whatever else the machine does weighs on all of them alike; `rounds` times over, each
    a `seconds`-long wrk run, and the median round of each is the figure (a single run of
    MLflow's server here has moved by 2x from one to the next)."""
    results = {label: {} for label in targets}
    for label, (base, token) in targets.items():
        print(f"  {label}: creating {len(models)} models with 8 writers ...", flush=True)
        results[label]["create_models_s"] = create_models(base, token, models)
        seed_hot_model(base, token)
    # Fresh statistics for both databases, as autovacuum gives them within a minute of a bulk
    # load: planned on stale ones (every table "empty"), the search would measure the planner.
    import psycopg

    for url in (MODELGATE_DB, MLFLOW_DB):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE")
    for label, (base, token) in targets.items():
        for path, _ in LOOKUPS.values():  # each worker's first request warms it
            wrk(f"{base}/api/2.0/mlflow/{path}", connections=4, seconds=1, token=token)
    runs = {label: {} for label in targets}
    raw_runs = {}
    for round_number in range(1, rounds + 1):
        for name, (path, connections) in LOOKUPS.items():
            for label, (base, token) in targets.items():
                print(f"  round {round_number}/{rounds}, {label}: {name} ...", flush=True)
                runs[label].setdefault(name, []).append(
                    wrk(f"{base}/api/2.0/mlflow/{path}", connections=connections, seconds=seconds, token=token))
            if connections == 32:
                raw_runs.setdefault(name, []).append(wrk(raw_url, connections=32, seconds=seconds))
        for label, (base, token) in targets.items():
            print(f"  round {round_number}/{rounds}, {label}: create version, 8 writers ...", flush=True)
            runs[label].setdefault("create_version", []).append(wrk(
                f"{base}/api/2.0/mlflow/model-versions/create", connections=8, seconds=seconds, token=token,
                script=write_script(workdir)))
    for label, calls in runs.items():
        for name, measured in calls.items():
            results[label][name] = median_round(measured)
            results[label][name]["non_2xx"] = sum(r["non_2xx"] for r in measured)
    raw = {name: median_round(measured) for name, measured in raw_runs.items()}
    return results, raw


def versions_without_gaps(database_url, *, modelgate):
    import psycopg

    if modelgate:
        sql = ("SELECT count(*), coalesce(max(v.version), 0) FROM registry_modelversion v "
               "JOIN registry_registeredmodel m ON m.id = v.model_id WHERE m.name = 'bench-writes'")
    else:
        sql = "SELECT count(*), coalesce(max(version), 0) FROM model_versions WHERE name = 'bench-writes'"
    with psycopg.connect(database_url) as conn:
        count, highest = conn.execute(sql).fetchone()
    return count, highest


# Servers --------------------------------------------------------------------------------------

def modelgate_env(workdir):
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": MODELGATE_DB,
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": "bench-" + os.urandom(16).hex(),
        "MODELGATE_VAR_DIR": str(Path(workdir) / "var"),
        "PROMETHEUS_MULTIPROC_DIR": str(Path(workdir) / "metrics"),
    })
    (Path(workdir) / "metrics").mkdir()
    return env


def modelgate_token(env):
    subprocess.run([str(BIN / "python"), "manage.py", "migrate", "--noinput", "-v0"], cwd=BASE_DIR, env=env, check=True)
    out = subprocess.run(
        [str(BIN / "python"), "manage.py", "issue_token", "bench", "--create", "--superuser", "--name", "bench"],
        cwd=BASE_DIR, env=env, check=True, capture_output=True, text=True,
    ).stdout
    return out.strip().splitlines()[-1]


def gunicorn(app, port, workers, extra=()):
    return [str(BIN / "gunicorn"), *extra, app, "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]


# Report ---------------------------------------------------------------------------------------

def ratio(a, b):
    return a / b if b else float("inf")


def report(mg, ml, raw, args, scale):
    rows, missed = [], []

    def target(ok, text):
        if not ok:
            missed.append(text)
        return ("ok: " if ok else "MISSED: ") + text

    for key, label in (("alias", "alias lookup, c=32"), ("get_version", "get version, c=32")):
        a, b = mg[key], ml[key]
        vs_mlflow, vs_raw = ratio(a["rps"], b["rps"]), ratio(a["rps"], raw[key]["rps"])
        rows.append((label, f"{a['rps']:,.0f} rps, p50 {a['p50']:.1f} ms, p99 {a['p99']:.1f} ms",
                     f"{b['rps']:,.0f} rps, p99 {b['p99']:.0f} ms", f"{vs_mlflow:.1f}x MLflow, {vs_raw:.0%} of raw",
                     target(vs_mlflow >= 20 and vs_raw >= 0.35 and a["p99"] <= 20 and not a["non_2xx"],
                            ">= 20x MLflow, >= 35% of raw, p99 <= 20 ms")))
    a, b = mg["create_version"], ml["create_version"]
    rows.append(("create version, 8 writers", f"{a['rps']:,.0f}/s (versions 1..{mg['versions'][1]}, {mg['versions'][0]} rows)",
                 f"{b['rps']:,.0f}/s", f"{ratio(a['rps'], b['rps']):.1f}x MLflow",
                 target(ratio(a["rps"], b["rps"]) >= 3 and mg["versions"][0] == mg["versions"][1] and not a["non_2xx"],
                        ">= 3x MLflow, gapless")))
    rows.append(("create 1,000 models, 8 writers", f"{mg['create_models_s']:.1f} s", f"{ml['create_models_s']:.1f} s",
                 f"{ratio(ml['create_models_s'], mg['create_models_s']):.1f}x MLflow's speed",
                 target(mg["create_models_s"] <= ml["create_models_s"], "at least as fast as MLflow")))
    a, b = mg["search"], ml["search"]
    rows.append(("filtered search, 1k models, 100 results, c=8", f"{a['rps']:,.0f} rps, p50 {a['p50']:.1f} ms",
                 f"{b['rps']:,.0f} rps, p50 {b['p50']:.0f} ms" if b["rps"] >= 1 else "every request past wrk's 2 s timeout",
                 f"{ratio(a['rps'], b['rps']):.1f}x MLflow" if b["rps"] >= 1 else "",
                 target(a["p50"] <= 50 and not a["non_2xx"], "p50 <= 50 ms")))
    if scale:
        rows.append((f"filtered search, {args.models:,} models (Modelgate only)", f"{scale['rps']:,.0f} rps, p50 {scale['p50']:.1f} ms",
                     "", f"{ratio(scale['p50'], a['p50']):.2f}x the 1k p50",
                     target(scale["p50"] <= 50 and scale["p50"] <= a["p50"] * 1.3, "p50 <= 50 ms, within 30% of 1k")))
    for key, label in (("alias", "beside the alias lookup"), ("get_version", "beside get version")):
        rows.append((f"raw WSGI app (ceiling), c=32, {label}", f"{raw[key]['rps']:,.0f} rps, p99 {raw[key]['p99']:.1f} ms",
                     "", "", ""))

    import mlflow

    print()
    print(f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
          f"MLflow {mlflow.__version__}, median of {args.rounds} rounds of {args.seconds} s of wrk a call, load average before "
          f"{args.load_before}, after {os.getloadavg()[0]:.2f}")
    print()
    print("| call | Modelgate | MLflow | ratio | target |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    bad = {k: v["non_2xx"] for k, v in {**{f"modelgate {k}": mg[k] for k in ("alias", "get_version", "search", "create_version")},
                                        **{f"mlflow {k}": ml[k] for k in ("alias", "get_version", "search", "create_version")}}.items() if v["non_2xx"]}
    if bad:
        print(f"\nNon-2xx answers: {bad}")
    return missed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=1000, help="models for the scale run (Modelgate only past 1000)")
    parser.add_argument("--seconds", type=int, default=5, help="seconds of load a call and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every call; the median round counts")
    parser.add_argument("--workers", type=int, default=4, help="server worker processes")
    args = parser.parse_args()
    for url, what in ((MODELGATE_DB, "BENCH_DATABASE_URL"), (MLFLOW_DB, "BENCH_MLFLOW_DATABASE_URL"), (REDIS_URL, "BENCH_REDIS_URL")):
        only_loopback(url, what)
    if subprocess.run(["which", "wrk"], capture_output=True).returncode:
        sys.exit("wrk is missing: `apt-get install wrk` (make bench installs it).")
    args.load_before = f"{os.getloadavg()[0]:.2f}"
    workdir = tempfile.mkdtemp(prefix="modelgate-bench-")
    servers = []
    try:
        recreate_database(MODELGATE_DB)
        recreate_database(MLFLOW_DB)
        env = modelgate_env(workdir)
        token = modelgate_token(env)
        first = [f"bench-{i:06d}" for i in range(1000)]
        mg_port, ml_port, raw_port = free_port(), free_port(), free_port()
        servers.append(Server("modelgate", gunicorn("config.wsgi:application", mg_port, args.workers,
                                                     ["-c", "python:ops.gunicorn"]), env, workdir))
        servers.append(Server("mlflow", [str(BIN / "mlflow"), "server", "--backend-store-uri",
                                         MLFLOW_DB.replace("postgres://", "postgresql+psycopg://", 1),
                                         "--default-artifact-root", str(Path(workdir) / "mlartifacts"),
                                         "--host", "127.0.0.1", "--port", str(ml_port), "--workers", str(args.workers)],
                              {**os.environ, "MLFLOW_TRACKING_URI": ""}, workdir))
        servers.append(Server("raw", gunicorn("bench.raw_wsgi:app", raw_port, args.workers, ["-c", "python:ops.gunicorn"]),
                              env, workdir))
        for server, url in zip(servers, (f"http://127.0.0.1:{mg_port}/health", f"http://127.0.0.1:{ml_port}/health",
                                         f"http://127.0.0.1:{raw_port}/")):
            server.start(url, timeout=180)
        mg_base = f"http://127.0.0.1:{mg_port}"
        results, raw = measure({"modelgate": (mg_base, token), "mlflow": (f"http://127.0.0.1:{ml_port}", None)},
                               f"http://127.0.0.1:{raw_port}/", workdir, args.seconds, args.rounds, first)
        mg, ml = results["modelgate"], results["mlflow"]
        mg["versions"] = versions_without_gaps(MODELGATE_DB, modelgate=True)
        ml["versions"] = versions_without_gaps(MLFLOW_DB, modelgate=False)
        for server in servers[1:]:
            server.stop()
        scale = None
        if args.models > 1000:
            print(f"  modelgate: {args.models - 1000} more models, inserted by SQL ...", flush=True)
            insert_models(MODELGATE_DB, 1000, args.models)
            url = f"{mg_base}/api/2.0/mlflow/{LOOKUPS['search'][0]}"
            wrk(url, connections=4, seconds=1, token=token)
            scale = wrk(url, connections=8, seconds=args.seconds, token=token)

        missed = report(mg, ml, raw, args, scale)
    finally:
        for server in servers:
            server.stop()
        drop_database(MODELGATE_DB)
        drop_database(MLFLOW_DB)
    if missed:
        print(f"\nTargets missed: {len(missed)} (logs in {workdir})")
        sys.exit(1)
    print("\nEvery target met.")


if __name__ == "__main__":
    main()

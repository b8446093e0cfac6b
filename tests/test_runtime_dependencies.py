"""`make run` installs only the runtime dependencies: every third-party package the service's
own code imports must be declared in [project.dependencies], not only in the test extras."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICE_PACKAGES = ["config", "audit", "accounts", "registry", "workflows", "webhooks", "notifications", "ui", "ops"]
LOCAL = set(SERVICE_PACKAGES) | {"tests"}


def _normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared_runtime():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_normalise(re.split(r"[<>=!~\[; ]", dep, maxsplit=1)[0]) for dep in project["dependencies"]}


def _imported_top_level_modules():
    modules = set()
    for package in SERVICE_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    return {m for m in modules if m not in sys.stdlib_module_names and m not in LOCAL}


def test_every_third_party_import_of_the_service_is_a_runtime_dependency():
    distributions = packages_distributions()
    needed = {
        module: {_normalise(d) for d in distributions.get(module, [module])}
        for module in _imported_top_level_modules()
    }
    declared = _declared_runtime()
    missing = {module: dists for module, dists in needed.items() if not dists & declared}
    assert missing == {}, f"imported by the service but not in [project.dependencies]: {missing}"

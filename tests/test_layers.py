"""The layering of docs/ARCHITECTURE.md, checked on the source: apps import only downwards
(audit <- accounts <- registry <- workflows, webhooks <- notifications <- ui, ops <- config), and no two modules import
each other, directly or round a loop, counting imports inside functions too."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Each app and the apps it may import. workflows and webhooks sit side by side: neither
# imports the other (webhooks hands Jenkins results to workflows by Celery task name).
MAY_IMPORT = {
    "audit": set(),
    "accounts": {"audit"},
    "registry": {"audit", "accounts"},
    "workflows": {"audit", "accounts", "registry"},
    "webhooks": {"audit", "accounts", "registry"},
    # notifications hands its emails to the broker through webhooks.enqueue (one breaker).
    "notifications": {"audit", "accounts", "registry", "workflows", "webhooks"},
    "ui": {"audit", "accounts", "registry", "workflows", "webhooks", "notifications"},
    "ops": {"audit", "accounts", "registry", "workflows", "webhooks", "notifications"},
    "config": {"audit", "accounts", "registry", "workflows", "webhooks", "notifications", "ui", "ops"},
}


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted):
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def _imports(path):
    """The project modules a file imports, anywhere in it."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module
            # `from pkg import mod` imports the module pkg.mod; `from mod import name`, mod.
            for alias in node.names:
                submodule = f"{origin}.{alias.name}"
                found.add(submodule if _is_module(submodule) else origin)
    return {m for m in found if m.split(".")[0] in MAY_IMPORT and _is_module(m) and m != module}


def _graph():
    graph = {}
    for app in MAY_IMPORT:
        for path in (ROOT / app).rglob("*.py"):
            graph[_module_name(path)] = _imports(path)
    return graph


GRAPH = _graph()


@pytest.mark.parametrize("app", sorted(MAY_IMPORT))
def test_an_app_imports_only_the_layers_below_it(app):
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items() if module.split(".")[0] == app
        for target in targets
        if target.split(".")[0] != app and target.split(".")[0] not in MAY_IMPORT[app]
    )
    assert wrong == []


def _cycles(graph):
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_modules_import_each_other_round_a_loop():
    assert _cycles(GRAPH) == []


def test_the_cycle_finder_finds_a_loop():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]

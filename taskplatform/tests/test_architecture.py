"""The import architecture, checked on the code itself (grimp builds the import graph).

1. No import cycle among the project's modules (tests and migrations aside). Imports inside
   functions count: a function-level import that closes a loop is the same tangle, only
   hidden. Imports under `if TYPE_CHECKING:` don't: they never run.
2. Domain code never imports the HTTP layer: models, services, selectors, the dispatcher,
   runner, sweeper, kinds, Celery tasks… import neither DRF nor any `api` package, so the
   worker, the admin and the CLI use them without the API. One exception, on purpose: a job
   kind declares its `Params` with `rest_framework.serializers` — used there as a library of
   declarative JSON validators (the same messages as every other field error, and the params
   documented in the OpenAPI schema), not as HTTP: nothing of requests, views or responses.
3. The web app (`web`, server-rendered pages) never imports DRF or an `api` package: it is
   a second front end on the same services, not a client of the first.
"""

from __future__ import annotations

from functools import cache

import grimp
import pytest

APPS = (
    "accounts",
    "audit",
    "files",
    "jobs",
    "live",
    "meetings",
    "notifications",
    "operations",
    "tasks",
    "web",
)
PACKAGES = (*APPS, "taskplatform")
# test tooling, not the application
NOT_CHECKED = ("tests", "migrations", "testing")

# a module is domain code when one of its names is one of these (jobs.kinds.reminder too)
DOMAIN = {
    "models",
    "services",
    "selectors",
    "dispatch",
    "runner",
    "sweeper",
    "kinds",
    "celery_tasks",
    "schedules",
    "due_soon",
    "sending",
    "publishing",
    "delivery",
    "rendering",
    "names",
    "sniff",
    "prune",
    "watch",
    "validators",
    "exceptions",
    "outbox",
    "liveness",
    "task_retry",
    "heartbeat",
    "periodic",
    "timezones",
    "validation",
}
HTTP_LIBRARIES = ("rest_framework",)
# (importer prefix, import statement) allowed although it reaches DRF (grimp names external
# packages by their top level only, so the statement says which part of DRF it is)
VALIDATION_LIBRARY = {("jobs.kinds", "from rest_framework import serializers")}


@cache
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(
        *PACKAGES,
        include_external_packages=True,
        exclude_type_checking_imports=True,
        cache_dir=None,  # nothing written into the work tree
    )


def _ours(module: str) -> bool:
    parts = module.split(".")
    return parts[0] in PACKAGES and not set(parts) & set(NOT_CHECKED)


def _is_http(module: str) -> bool:
    parts = module.split(".")
    return parts[0] in HTTP_LIBRARIES or (parts[0] in PACKAGES and "api" in parts[1:])


def _is_domain(module: str) -> bool:
    return not _is_http(module) and bool(set(module.split(".")[1:]) & DOMAIN)


def _validation_library(module: str, statement: str) -> bool:
    return any(
        module.startswith(prefix) and statement == allowed for prefix, allowed in VALIDATION_LIBRARY
    )


def _imports_with_statements(importer: str, imported: str) -> list[tuple[str, str]]:
    """(`importer.py:line  the import statement  (-> imported)`, the statement) for each."""
    return [
        (
            f"{importer.replace('.', '/')}.py:{detail['line_number']}  {detail['line_contents']}"
            f"  (-> {imported})",
            detail["line_contents"].strip(),
        )
        for detail in graph().get_import_details(importer=importer, imported=imported)
    ]


def _imports(importer: str, imported: str) -> list[str]:
    return [line for line, _ in _imports_with_statements(importer, imported)]


def strongly_connected_components(g: grimp.ImportGraph, nodes: set[str]) -> list[list[str]]:
    """Tarjan's algorithm over the imports among `nodes`, iterative (no recursion limit)."""
    edges = {
        n: sorted(m for m in g.find_modules_directly_imported_by(n) if m in nodes) for n in nodes
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            recurse = False
            for i in range(child, len(edges[node])):
                target = edges[node][i]
                if target not in index:
                    work.append((node, i + 1))
                    work.append((target, 0))
                    recurse = True
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            if recurse:
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def import_cycles() -> list[list[str]]:
    modules = {m for m in graph().modules if _ours(m)}
    cycles = [c for c in strongly_connected_components(graph(), modules) if len(c) > 1]
    return sorted(cycles, key=lambda c: (-len(c), c))


def describe(cycle: list[str]) -> str:
    members = set(cycle)
    lines = [f"{len(cycle)} modules import each other: {', '.join(cycle)}"]
    for importer in cycle:
        for imported in sorted(graph().find_modules_directly_imported_by(importer) & members):
            lines += [f"    {line}" for line in _imports(importer, imported)]
    return "\n".join(lines)


def test_there_is_no_import_cycle():
    cycles = import_cycles()
    assert not cycles, "import cycles (each import that closes them is listed):\n" + "\n".join(
        describe(cycle) for cycle in cycles
    )


def test_domain_code_never_imports_the_http_layer():
    g = graph()
    found = []
    for module in sorted(m for m in g.modules if _ours(m) and _is_domain(m)):
        for imported in sorted(g.find_modules_directly_imported_by(module)):
            if _is_http(imported):
                found += [
                    line
                    for line, statement in _imports_with_statements(module, imported)
                    if not _validation_library(module, statement)
                ]
    assert not found, "domain code importing DRF or an api package:\n" + "\n".join(found)


def test_the_web_app_uses_services_not_the_api():
    """The web pages call the same services and selectors as the API, never the API's
    views or serializers, and don't use DRF at all."""
    g = graph()
    found = []
    for module in sorted(m for m in g.modules if _ours(m) and m.split(".")[0] == "web"):
        for imported in sorted(g.find_modules_directly_imported_by(module)):
            if _is_http(imported):
                found += _imports(module, imported)
    assert not found, "the web app importing DRF or an api package:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("module", "domain"),
    [
        ("jobs.services", True),
        ("jobs.kinds.reminder", True),
        ("notifications.celery_tasks", True),
        ("taskplatform.exceptions", True),
        ("jobs.api.views", False),
        ("taskplatform.api.errors", False),
        ("jobs.admin", False),
    ],
)
def test_the_rules_know_domain_code_from_http(module, domain):
    assert _is_domain(module) is domain


def test_only_kinds_may_use_drf_serializers_as_validators():
    allowed = "from rest_framework import serializers"
    assert _validation_library("jobs.kinds.reminder", allowed)
    assert not _validation_library("jobs.kinds.reminder", "from rest_framework import views")
    assert not _validation_library("jobs.services", allowed)


def test_tests_migrations_and_test_tooling_are_not_checked():
    assert _ours("jobs.dispatch")
    assert not _ours("jobs.tests.test_job_dispatch")
    assert not _ours("jobs.migrations.0001_initial")
    assert not _ours("taskplatform.testing.fixtures")
    assert not _ours("rest_framework.serializers")


def test_the_cycle_finder_finds_a_cycle_and_nothing_else():
    g = grimp.ImportGraph()
    for importer, imported in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]:
        g.add_import(importer=importer, imported=imported)
    components = strongly_connected_components(g, {"a", "b", "c", "d"})
    assert sorted(components) == [["a", "b", "c"], ["d"]]

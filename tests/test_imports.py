"""The house's import rules, read from the source (no import is executed).

- No circle between the project's modules (imports at module level).
- A function-local import only defers a heavy library, or breaks a circle that is written
  down as such: a comment ``# circle: <why>`` on the import line or the line above it
  (an app's ``ready()`` importing its signal receivers is Django's own way, and allowed).
- The face pipeline (``matching/faces/``) imports no ORM: no models, no ``django.db``, no
  services or selectors; it works on images and numbers.
- ``families``' lower modules (everything but its services, views, URLs, admin,
  management commands, and the same of the partners' wing with its API) never import
  ``matching``: matching builds on families, not back.
- The partners' wing (``families.partners``) builds on families' core; the core never
  imports the wing, but for two doors: ``families.models`` imports the wing's models (they
  are families' models), and ``families.jobs`` answers to the import job's old dotted name
  for the jobs queued before it moved. (The app's ``ready()`` wires the wing in; the
  project's URLs include the wing's.)
- The top-level layers: ``reunion``'s base (queueing, the worker, logging, rate limits)
  imports no app, and the apps import nothing else of ``reunion``; the rest of ``reunion``
  (settings, URLs, health, metrics, middleware, the demo) sits on top of both apps. So the
  one arrow left running up is families' upper modules → matching.
- Only ``reunion.queueing`` and ``reunion.worker`` import rq or django_rq.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PACKAGES = ("families", "matching", "reunion")

#: Libraries that cost seconds or hundreds of megabytes to import: a function may defer them.
HEAVY = ("deepface", "tensorflow", "keras", "cv2", "dlib", "matching.age_progression",
         "matching.faces.deepface_engine", "pillow_heif", "pgserver",
         "pypinyin")  # its dictionaries: a second and 60 MB, for search terms only

#: ``families`` modules that may build on ``matching`` (the top of the house).
FAMILIES_UPPER = ("families.services", "families.views", "families.urls", "families.admin",
                  "families.management", "families.partners.services", "families.partners.views",
                  "families.partners.urls", "families.partners.admin", "families.partners.api")

#: The partners' wing: its package, and its command (where Django looks for families').
PARTNERS_WING = ("families.partners", "families.management.commands.partner_import")
#: Where families' core may name the wing (importing module, imported module).
WING_DOORS = {
    ("families.models", "families.partners.models"),  # the wing's models are families'
    ("families.jobs", "families.partners.jobs"),  # the import job's old dotted name
}

#: ``reunion``'s modules below the apps: they import no app, and are all the apps import of it.
REUNION_BASE = ("reunion.queueing", "reunion.worker", "reunion.logging", "reunion.ratelimits")
APPS = ("families", "matching")
#: The modules that may import the queueing library.
QUEUE_LIBRARIES = ("rq", "django_rq")
QUEUE_MODULES = ("reunion.queueing", "reunion.worker")

FACE_PIPELINE = "matching.faces"
ORM_MARKERS = ("django.db", ".models", ".services", ".selectors", "pgvector")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module (the most precise name known)
    line: int
    local: bool  # inside a function
    documented_circle: bool


def module_name(path: Path) -> str:
    parts = path.relative_to(BASE_DIR).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_files() -> list[Path]:
    return sorted(
        path for package in PACKAGES for path in (BASE_DIR / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(path: Path) -> list[Import]:
    source = path.read_text()
    lines = source.splitlines()
    module = module_name(path)
    is_package = path.name == "__init__.py"
    found: list[Import] = []

    def documented(line: int) -> bool:
        here = lines[line - 1]
        above = lines[line - 2] if line > 1 else ""
        return "# circle:" in here or above.strip().startswith("# circle:")

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            function = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if function and child.name == "ready":
                continue  # AppConfig.ready: where Django wants signal receivers imported
            inside = local or function
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(Import(module, alias.name, child.lineno, local,
                                        documented(child.lineno)))
            elif isinstance(child, ast.ImportFrom):
                target = _resolve(module, is_package, child)
                for alias in child.names:
                    # "from matching import faces" imports the module matching.faces.
                    name = f"{target}.{alias.name}"
                    found.append(Import(module, name if _is_module(name) else target,
                                        child.lineno, local, documented(child.lineno)))
            elif isinstance(child, ast.If) and _is_type_checking(child):
                continue
            visit(child, inside)

    visit(ast.parse(source), False)
    return found


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _is_module(name: str) -> bool:
    path = BASE_DIR / Path(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _project(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def _owner(name: str) -> str:
    """The project module an import lands in (``matching.faces.Box`` → ``matching.faces``)."""
    parts = name.split(".")
    while parts and not _is_module(".".join(parts)):
        parts.pop()
    return ".".join(parts)


def all_imports() -> list[Import]:
    return [found for path in project_files() for found in imports_of(path)]


def module_graph(imports: list[Import]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {module_name(path): set() for path in project_files()}
    for found in imports:
        if found.local or not _project(found.target):
            continue
        target = _owner(found.target)
        if target and target != found.module:
            graph[found.module].add(target)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = [0]

    def connect(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return groups


def test_no_module_imports_itself_back_through_others():
    found = circles(module_graph(all_imports()))
    assert not found, f"import circles: {found}"


def test_a_function_imports_only_heavy_libraries_or_a_documented_circle():
    wrong = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in all_imports()
        if found.local and not found.documented_circle
        and (found.module, _owner(found.target)) not in WING_DOORS
        and not any(found.target == heavy or found.target.startswith(heavy + ".")
                    for heavy in HEAVY)
    ]
    assert not wrong, "function-local imports with no reason written down:\n" + "\n".join(wrong)


def test_the_face_pipeline_imports_no_orm():
    wrong = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in all_imports()
        if found.module.startswith(FACE_PIPELINE)
        and any(marker in found.target for marker in ORM_MARKERS)
    ]
    assert not wrong, "\n".join(wrong)


def test_families_lower_modules_never_import_matching():
    wrong = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in all_imports()
        if found.module.startswith("families")
        and not found.module.startswith(FAMILIES_UPPER)
        and found.target.split(".")[0] == "matching"
    ]
    assert not wrong, "\n".join(wrong)


def _top(name: str) -> str:
    return name.split(".")[0]


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def test_families_core_never_imports_the_partners_wing():
    wrong = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in all_imports()
        if _top(found.module) == "families" and not _within(found.module, PARTNERS_WING)
        and _within(found.target, ("families.partners",))
        and (found.module, _owner(found.target)) not in WING_DOORS
    ]
    assert not wrong, "families' core builds nothing on the partners' wing:\n" + "\n".join(wrong)


def test_the_top_level_layers_run_down():
    wrong = []
    for found in all_imports():
        source, target = _top(found.module), _top(found.target)
        if found.module.startswith(REUNION_BASE) and target in APPS:
            wrong.append(f"{found.module}:{found.line} (reunion's base) imports {found.target}")
        if source in APPS and target == "reunion" and not found.target.startswith(REUNION_BASE):
            wrong.append(f"{found.module}:{found.line} imports {found.target} (above the apps)")
    assert not wrong, "\n".join(wrong)


def test_only_the_queueing_module_and_the_worker_import_the_queue_library():
    wrong = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in all_imports()
        if _top(found.target) in QUEUE_LIBRARIES and found.module not in QUEUE_MODULES
    ]
    assert not wrong, "queue work through reunion.queueing:\n" + "\n".join(wrong)


def test_the_rules_can_fail(tmp_path):
    """The readers see a circle, a local import and a forbidden direction when there is one."""
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    source = tmp_path / "example.py"
    source.write_text(
        "import os\n"
        "def f():\n"
        "    import json\n"
        "    # circle: matching.services imports this module\n"
        "    import email\n"
        "    import deepface\n"
    )
    found = [(i.target, i.local, i.documented_circle) for i in _imports_at(source)]
    assert found == [("os", False, False), ("json", True, False), ("email", True, True),
                     ("deepface", True, False)]


def _imports_at(path: Path) -> list[Import]:
    """``imports_of`` for a file outside the project (its module name is its stem)."""
    global BASE_DIR
    saved, BASE_DIR = BASE_DIR, path.parent
    try:
        return imports_of(path)
    finally:
        BASE_DIR = saved

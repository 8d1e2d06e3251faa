"""Reading the project's imports from its source (for the layering tests)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: source folder -> the package it installs as
PACKAGES = {"backends": ("irsnn", "backends"), "passes": ("irsnn", "passes")}


def module_name(path: Path) -> str:
    """The installed module name of source file ``path``."""
    rel = path.relative_to(ROOT).with_suffix("").parts
    parts = PACKAGES.get(rel[0], (rel[0],)) + rel[1:]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_imports(path: Path, top_level: bool = False) -> set[str]:
    """Absolute module names imported by ``path`` (relative imports resolved against the
    package the file installs as; ``from m import x`` gives both ``m`` and ``m.x``); with
    ``top_level``, only the imports that run when the module is loaded (not those inside
    functions)."""
    rel = path.relative_to(ROOT).with_suffix("").parts
    package = list(PACKAGES.get(rel[0], (rel[0],)) + rel[1:-1])
    tree = ast.parse(path.read_text())
    nodes = _load_time(tree.body) if top_level else ast.walk(tree)
    out = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def _load_time(body):
    """The statements of ``body`` run at import (descending into ``if``/``try``, not into
    functions or classes)."""
    for node in body:
        yield node
        for field in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(node, field, None)
            if isinstance(inner, list) and not isinstance(node, (ast.FunctionDef,
                                                                ast.AsyncFunctionDef,
                                                                ast.ClassDef)):
                yield from _load_time(inner)


def source_files(*folders):
    """Every ``.py`` file under the given top-level folders."""
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))

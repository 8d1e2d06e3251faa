"""The import layers of the architecture (docs/architecture.md): no import circle among the
modules' load-time imports, and no import from a lower layer into a higher one."""

import networkx as nx
import pytest

from .layering import ROOT, module_imports, module_name, source_files

FOLDERS = ("irsnn", "passes", "backends")


def _graph(top_level=False):
    modules = {module_name(p): p for p in source_files(*FOLDERS)}
    g = nx.DiGraph()
    for name, path in modules.items():
        g.add_node(name)
        for mod in module_imports(path, top_level=top_level):
            if mod in modules and mod != name:
                g.add_edge(name, mod)
    return g


def test_no_import_circle():
    """No modules import each other, not even through imports inside functions (a package's
    ``__init__`` importing its own submodules is how packages are assembled, not a circle)."""
    g = _graph()
    g.remove_edges_from([(u, v) for u, v in g.edges if v.startswith(u + ".")])
    cycles = list(nx.simple_cycles(g))
    assert not cycles, f"import circles: {cycles[:5]}"


@pytest.mark.parametrize("lower, higher", [
    ("irsnn.backends", "irsnn.compilers"),
    ("irsnn.passes", "irsnn.compilers"),
    ("irsnn.passes", "irsnn.backends"),
    ("irsnn.ir", "irsnn.passes"),
    ("irsnn.ir", "irsnn.backends"),
    ("irsnn.lang", "irsnn.ir"),
    ("irsnn.backends.reference", "irsnn.backends.c"),
    ("irsnn.backends.native", "irsnn.backends.kernels"),
])
def test_no_import_upward(lower, higher):
    g = _graph()
    bad = sorted((u, v) for u, v in g.edges
                 if (u == lower or u.startswith(lower + "."))
                 and (v == higher or v.startswith(higher + ".")))
    assert not bad, f"{lower} imports {higher}: {bad}"


def test_layout_names_are_tested_only_by_the_layouts():
    """Code asks a layout's traits or strategy; only the layouts (and the compilers'
    preference lists) spell layout names in comparisons."""
    import re
    pattern = re.compile(r"\.layout\s*(==|!=|in\b|not in\b)")
    bad = [f"{p.relative_to(ROOT)}:{n}" for p in source_files(*FOLDERS)
           if "layouts" not in p.parts and p.name != "layouts.py"
           for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not bad, bad

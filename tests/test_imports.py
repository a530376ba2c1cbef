"""The house has no knot: the engine's modules import one another without a circle."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("autograd_mini", "nn")


def _module(path):
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _resolve(node, here, is_package, modules):
    """The modules a top-level `import` or `from ... import` statement imports: for
    `from package import name`, the submodule `package.name` where that is one, else the
    package itself."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = here if is_package else here.rpartition(".")[0]
    for _ in range(node.level - 1):
        base = base.rpartition(".")[0]
    mod = (base + "." + node.module if node.module else base) if node.level else node.module
    subs = [f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in modules]
    return subs if len(subs) == len(node.names) else [mod] + subs


def import_graph():
    """{module: the package's modules it imports at import time (not inside functions)}."""
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    modules = {_module(p): p for p in files}
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found = set()
        for node in tree.body:  # module level only: an import inside a function runs later
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for m in _resolve(node, name, path.name == "__init__.py", modules):
                    if m in modules and m != name:
                        found.add(m)
        graph[name] = found
    return graph


def cycles(graph):
    """Every import circle, as lists of modules (Tarjan's strongly connected components)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_engine_has_no_import_circle():
    found = cycles(import_graph())
    assert not found, f"import circles: {found}"


def test_the_check_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_tensor_imports_nothing_from_the_package():
    assert import_graph()["autograd_mini.tensor"] == set()

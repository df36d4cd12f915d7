"""Inside tfzoo: no import cycle among its modules (the imports inside functions counted), and few
imports of tfzoo's own modules inside functions, each with its reason on the line. Read from the source
with ``ast`` (tests/test_imports.py checks the directions between the packages)."""

import ast

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "tfzoo"
MAX_FUNCTION_LEVEL = 10


def _module_name(path):
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(name, imported=None):
    """The tfzoo module an import names: ``from tfzoo.x import y`` is tfzoo.x.y where that is a module."""
    if imported and ((PACKAGE.parent / (name + "." + imported).replace(".", "/")).with_suffix(".py").is_file() or
                     (PACKAGE.parent / (name + "." + imported).replace(".", "/") / "__init__.py").is_file()):
        return f"{name}.{imported}"
    return name


def _imports(tree):
    """(module-level tfzoo imports, function-level ones as (line number, name))."""
    top, nested = set(), []

    def visit(node, inside):
        for child in ast.iter_child_nodes(node):
            names = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                names = [_resolve(child.module, alias.name) for alias in child.names]
            names = [n for n in names if n == "tfzoo" or n.startswith("tfzoo.")]
            if names:
                if inside:
                    nested.extend((child.lineno, n) for n in names)
                else:
                    top.update(names)
            visit(child, inside or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(tree, False)
    return top, nested


def _graph():
    graph, nested = {}, {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        source = path.read_text()
        top, inside = _imports(ast.parse(source))
        graph[name] = top | {target for _, target in inside}  # an import inside a function is a dependency too
        lines = source.splitlines()
        nested[name] = [(number, target, lines[number - 1]) for number, target in inside]
    return graph, nested


def _cycle(graph):
    """One import cycle among the modules, as a list of names, or None."""
    state = {}

    def walk(node, stack):
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if target == node or target not in graph:
                continue
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                found = walk(target, stack + [target])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            found = walk(start, [start])
            if found:
                return found
    return None


@pytest.fixture(autouse=True)
def _fixed_seed():
    """Overrides the suite's Keras seed and clear_session: these tests parse files."""
    yield


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle_among_tfzoos_modules():
    """Counting the imports inside functions: a cycle hidden behind one is still a cycle."""
    graph, _ = _graph()
    assert len(graph) > 60 and _cycle(graph) is None, _cycle(graph)


def test_few_function_level_imports_each_with_its_reason():
    _, nested = _graph()
    found = [(module, number, line.strip()) for module, imports in nested.items() for number, _, line in imports]
    assert len(found) <= MAX_FUNCTION_LEVEL, found
    unexplained = [f for f in found if "#" not in f[2]]
    assert not unexplained, unexplained

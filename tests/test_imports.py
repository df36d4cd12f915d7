"""Imports run one way (README.md, "Layout"): recipes/, export/ and bench/ import tfzoo and never each other,
tfzoo imports none of them, one paper experiment does not import another or the recipes take
defaults from the paper's transcription; tools/ sits on top of bench; and importing a package changes no
environment.

Read from the source with ``ast`` (nothing is executed), so an import inside a function counts."""

import ast
import json
import subprocess
import sys

import pytest

from tests.conftest import REPO

PACKAGES = ("tfzoo", "recipes", "export", "bench")
# tools/: the investigations behind docs/performance.md; they may use bench and tfzoo, and nothing imports them.
TOOLS = "tools"
# recipes.paper's experiment programs: each imports the shared modules (common, batch_sweep,
# reference, estimate), never another experiment.
EXPERIMENTS = ("ablation", "batch_size", "depth", "imagenet", "signal", "small_batch")


@pytest.fixture(autouse=True)
def _fixed_seed():
    """Overrides the suite's Keras seed and clear_session: these tests parse files."""
    yield


def _module_name(path):
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """Every module ``path`` imports, as absolute dotted names (``from x import y``: x and x.y)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _graph():
    graph = {}
    for package in (*PACKAGES, TOOLS):
        for path in sorted((REPO / package).rglob("*.py")):
            graph[_module_name(path)] = _imports(path)
    return graph


GRAPH = _graph()


def _top(name):
    return name.split(".")[0]


def test_the_walk_sees_every_module_and_import():
    assert {"tfzoo", "tfzoo.cli", "recipes.cifar_wrn", "recipes.paper.common", "export.predict",
            "bench.train_throughput"} <= set(GRAPH)
    assert {"recipes.cli", "recipes.train_flags"} <= GRAPH["recipes.cifar_wrn"]
    assert "tfzoo.training.config.IMAGENET_PROTOCOL" in GRAPH["recipes.imagenet_resnet"]
    assert "recipes.paper.common" in GRAPH["recipes.paper.ablation"]


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_import_only_tfzoo(package):
    allowed = {package, "tfzoo"}
    wrong = sorted(f"{module} imports {name}" for module, names in GRAPH.items() if _top(module) == package
                   for name in names if _top(name) in PACKAGES and _top(name) not in allowed)
    assert wrong == []


def test_tools_sit_on_top():
    assert "bench.train_throughput" in GRAPH["tools.kernel_time"]
    wrong = sorted(f"{module} imports {name}" for module, names in GRAPH.items() if _top(module) == TOOLS
                   for name in names if _top(name) in ("recipes", "export"))
    wrong += sorted(f"{module} imports {name}" for module, names in GRAPH.items() if _top(module) != TOOLS
                    for name in names if _top(name) == TOOLS)
    assert wrong == []


def test_recipes_do_not_import_each_other():
    wrong = sorted(f"{module} imports {name}" for module, names in GRAPH.items() if module.startswith("recipes.paper.")
                   for name in names if name.startswith("recipes.paper.") and name.split(".")[2] in EXPERIMENTS
                   and name != module)
    wrong += sorted(f"{module} imports {name}" for module, names in GRAPH.items()
                    if _top(module) == "recipes" and not module.startswith("recipes.paper")
                    for name in names if name.startswith("recipes.paper"))
    assert wrong == []


def test_tfzoo_does_not_import_training_to_register_it():
    assert not any(_top(name) == "tfzoo" and name.startswith("tfzoo.training") for name in GRAPH["tfzoo"])


def test_importing_a_package_changes_no_environment():
    # TensorFlow and h5py set variables of their own when imported: import them first.
    script = ("import json, os, sys, keras, tensorflow, h5py; before = dict(os.environ); "
              f"[__import__(name) for name in {list(PACKAGES)!r}]; "
              "after = dict(os.environ); "
              "print(json.dumps({k: [before.get(k), after.get(k)] for k in set(before) | set(after) "
              "if before.get(k) != after.get(k)}))")
    env = {k: v for k, v in __import__("os").environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {}

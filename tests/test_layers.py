"""The package's layers form a clean stack (docs/architecture.md, "Layers"): a module imports only
from its own layer or a lower one, and no module uses another module's private names."""
import ast
import pathlib

import pipeline

PACKAGE = pathlib.Path(pipeline.__file__).parent
LAYERS = [  # (layer, module name prefixes)
    (0, ["pipeline.errors", "pipeline.registry", "pipeline.model", "pipeline.faults", "pipeline.text"]),
    (1, ["pipeline.io"]),
    (2, ["pipeline.steps"]),
    (3, ["pipeline.dedup"]),
    (4, ["pipeline.config"]),
    (5, ["pipeline.run", "pipeline.report", "pipeline.tuning"]),
    (6, ["pipeline.cli", "pipeline.__main__"]),
]


def _layer(module: str) -> int:
    if module == "pipeline":
        return 0
    for layer, prefixes in LAYERS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return layer
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and to docs/architecture.md")


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path.name == "__init__.py", ast.parse(path.read_text(encoding="utf-8"))


def _imports(name: str, is_package: bool, tree):
    """(imported module, names taken from it) for every import of the module, at any depth."""
    base = name if is_package else name.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, [], a.asname or a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = base.split(".")
                parent = parent[:len(parent) - node.level + 1]
                mod = ".".join(parent + ([node.module] if node.module else []))
            else:
                mod = node.module
            yield mod, [a.name for a in node.names], None


def test_every_module_imports_only_from_its_layer_or_below():
    wrong = []
    for name, is_package, tree in _modules():
        for mod, names, _ in _imports(name, is_package, tree):
            if not mod.startswith("pipeline"):
                continue
            targets = [mod] + [f"{mod}.{n}" for n in names]
            for target in targets:
                try:
                    layer = _layer(target)
                except AssertionError:
                    continue            # a name, not a module
                if layer > _layer(name):
                    wrong.append(f"{name} (layer {_layer(name)}) imports {target} (layer {layer})")
    assert not wrong, "\n".join(wrong)


def test_no_module_uses_another_modules_private_names():
    wrong = []
    for name, is_package, tree in _modules():
        modules = {}                              # local names bound to pipeline modules
        for mod, names, alias in _imports(name, is_package, tree):
            if not mod.startswith("pipeline"):
                continue
            for n in names:
                if n.startswith("_") and not n.startswith("__") and n != "_native":   # (the compiled module)
                    wrong.append(f"{name} imports {mod}.{n}")
                modules.setdefault(n, mod)
            if alias:
                modules[alias] = mod
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in modules and node.attr.startswith("_") and not node.attr.startswith("__")):
                wrong.append(f"{name} uses {node.value.id}.{node.attr}")
    assert not wrong, "\n".join(wrong)


def test_no_module_is_over_600_lines():
    long = {str(p.relative_to(PACKAGE.parent)): n for p in PACKAGE.rglob("*.[pc]*")
            if p.suffix in (".py", ".c") and (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert not long, long

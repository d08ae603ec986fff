"""The tree's own rules: the core imports no adapter, reports import no spreadsheet code, and every
module says what it is for."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("scoring", "reports", "xlplugin", "templates", "tests", "benchmarks")
#: package -> packages it must not import: scoring is the core, reports build on it alone.
FORBIDDEN = {"scoring": ("reports", "xlplugin"), "reports": ("xlplugin",)}


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Every module name ``path`` imports, at any depth (imports inside functions count too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", FORBIDDEN)
def test_a_package_imports_nothing_from_the_adapters_above_it(package):
    found = [f"{path.relative_to(ROOT)} imports {name}" for path in modules(package)
             for name in sorted(imported(path)) if name.split(".")[0] in FORBIDDEN[package]]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_opens_with_a_docstring(package):
    missing = [str(path.relative_to(ROOT)) for path in modules(package)
               if not (ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "").strip()]
    assert not missing, f"modules without an opening docstring: {', '.join(missing)}"


def _from_imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module, names, line) of every absolute ``from X import names`` in ``path``."""
    return [(node.module, [alias.name for alias in node.names], node.lineno)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0]


def test_adapters_use_only_names_the_core_declares_public():
    """Outside scoring/, a scoring name is imported only if its module lists it in ``__all__``
    (or it is a submodule that declares its own), so the core's public surface is deliberate."""
    import importlib

    wrong = []
    for package in ("reports", "xlplugin", "benchmarks"):
        for path in modules(package):
            for module, names, line in _from_imports(path):
                if module.split(".")[0] != "scoring":
                    continue
                public = getattr(importlib.import_module(module), "__all__", None)
                for name in names:
                    submodule = importlib.util.find_spec(f"{module}.{name}") if hasattr(
                        importlib.import_module(module), "__path__") else None
                    if submodule is not None and hasattr(importlib.import_module(f"{module}.{name}"), "__all__"):
                        continue
                    if public is None or name not in public:
                        wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}.{name}, "
                                     f"which {module} does not list in __all__")
    assert not wrong, "\n".join(wrong)

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

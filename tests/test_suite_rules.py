"""Rules of the test suite itself, read from its source.

- A test module imports nothing from another test module: what tests share lives in a helper
  module (tests/helpers/, tests/*_factories.py, conftest.py), so that moving or deleting a test
  never breaks a neighbour (and a test class imported by name would run twice).
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(TESTS.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _is_test_module(dotted: str) -> bool:
    return dotted.rsplit(".", 1)[-1].startswith("test_")


def imported_test_modules(tree: ast.Module, module: str) -> list[tuple[int, str]]:
    """(line, module) of every import of a test module, absolute or relative."""
    package = module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if _is_test_module(a.name)]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
            found += [(node.lineno, t) for t in targets if _is_test_module(t)]
    return found


def test_no_test_module_imports_another():
    offenders = [f"{path.relative_to(ROOT)}:{line} imports {target}"
                 for path, tree in _modules() for line, target in imported_test_modules(tree, _module_name(path))]
    assert offenders == [], "move what is shared to tests/helpers/:\n" + "\n".join(offenders)


# The rules catch what they are meant to catch.

def test_the_import_rule_sees_absolute_and_relative_imports():
    tree = ast.parse("from tests.api.test_payments import desk\nfrom .test_cash import current\n"
                     "from tests.api import test_stock\nimport tests.jobs.test_runner\nfrom tests.helpers.payments import pay\n")
    assert [t for _, t in imported_test_modules(tree, "tests.api.test_refunds")] == [
        "tests.api.test_payments", "tests.api.test_cash", "tests.api.test_stock", "tests.jobs.test_runner"]

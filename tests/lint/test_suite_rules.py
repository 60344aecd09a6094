"""Rules of the test suite itself, read from its source.

- A test module imports nothing from another test module: what tests share lives in a helper
  module (tests/helpers/, tests/*_factories.py, conftest.py), so that moving or deleting a test
  never breaks a neighbour (and a test class imported by name would run twice).
- A test that expects a 409 or a 422 checks which problem came back (its `type`, `title`, or
  for bad input the field it names), not only the status: a 422 for the wrong field, or a
  409 for another conflict, would otherwise pass.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
EXPECTED = (409, 422)
# Members of a problem that say which problem it is; "field"/"errors" name the bad input.
PROBLEM_KEYS = {"type", "title", "field", "errors"}

Function = ast.FunctionDef | ast.AsyncFunctionDef


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


def _functions(tree: ast.AST) -> list[Function]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _looks_at_the_problem(fn: Function) -> bool:
    for n in ast.walk(fn):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and "/problems/" in n.value:
            return True
        if isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant) and n.slice.value in PROBLEM_KEYS:
            return True
        if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "get" and n.args
                and isinstance(n.args[0], ast.Constant) and n.args[0].value in PROBLEM_KEYS):
            return True
    return False


def _called(fn: ast.AST) -> set[str]:
    return {n.func.id if isinstance(n.func, ast.Name) else n.func.attr for n in ast.walk(fn)
            if isinstance(n, ast.Call) and isinstance(n.func, (ast.Name, ast.Attribute))}


def problem_checkers(trees: list[ast.Module], known: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """Names of the functions that check a problem, themselves or through another checker."""
    functions = [f for tree in trees for f in _functions(tree)]
    checkers = set(known) | {f.name for f in functions if _looks_at_the_problem(f)}
    grown = True
    while grown:
        before = len(checkers)
        checkers |= {f.name for f in functions if _called(f) & checkers}
        grown = len(checkers) > before
    return checkers


def _expects_409_or_422(fn: Function) -> bool:
    return any(isinstance(n, ast.Constant) and type(n.value) is int and n.value in EXPECTED
               for part in [*fn.decorator_list, *fn.body] for n in ast.walk(part))


def unchecked_conflicts(tree: ast.Module, shared: set[str]) -> list[Function]:
    """Tests of this module that expect a 409/422 and never look at which problem it is."""
    checkers = problem_checkers([tree], shared)
    return [f for f in _functions(tree) if f.name.startswith("test") and _expects_409_or_422(f)
            and f.name not in checkers]


def test_every_409_and_422_checks_the_problem():
    modules = list(_modules())
    shared = problem_checkers([tree for path, tree in modules if not path.name.startswith("test_")])
    offenders = [f"{path.relative_to(ROOT)}:{fn.lineno} {fn.name}"
                 for path, tree in modules if path.name.startswith("test_") for fn in unchecked_conflicts(tree, shared)]
    assert offenders == [], "assert the problem's type (or the field it names) too:\n" + "\n".join(offenders)


# The rules catch what they are meant to catch.

def test_the_import_rule_sees_absolute_and_relative_imports():
    tree = ast.parse("from tests.api.test_payments import desk\nfrom .test_cash import current\n"
                     "from tests.api import test_stock\nimport tests.jobs.test_runner\nfrom tests.helpers.payments import pay\n")
    assert [t for _, t in imported_test_modules(tree, "tests.api.test_refunds")] == [
        "tests.api.test_payments", "tests.api.test_cash", "tests.api.test_stock", "tests.jobs.test_runner"]


OLD_STYLE = '''
async def test_second_void_409(client):
    r = await client.post("/x")
    assert r.status_code == 409

async def test_second_void_409_checked(client):
    r = await client.post("/x")
    assert r.status_code == 409 and r.json()["type"] == "/problems/receipt-already-void"

def refused(r, field):
    assert r.json()["errors"][0]["field"] == field

@pytest.mark.parametrize("status", [422])
async def test_through_a_helper(client, status):
    r = await client.post("/x")
    assert r.status_code == status
    refused(r, "amount")

@pytest.mark.parametrize("body,status", [({}, 422)])
async def test_status_from_the_table(client, body, status):
    assert (await client.post("/x", json=body)).status_code == status
'''


def test_the_problem_rule_flags_a_bare_status():
    flagged = [f.name for f in unchecked_conflicts(ast.parse(OLD_STYLE), set())]
    assert flagged == ["test_second_void_409", "test_status_from_the_table"]
    assert [f.name for f in unchecked_conflicts(ast.parse(OLD_STYLE), {"post"})] == []

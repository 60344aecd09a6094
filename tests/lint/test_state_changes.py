"""State changes are verbs on the aggregate: outside the model modules, nothing assigns to a
`status` or to a charge's paid amount. The services call the verbs through `audit.apply`, so every
change is audited by construction.

The demo modules are left out: they write a finished history in bulk, as the verbs would have
left it, before anyone uses the estate.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The columns a state is kept in, or read from where an aggregate has no status column
# (an approval line's decision, a manifest's acknowledgement, a closed estate, a revoked key).
GUARDED = {"status", "amount_paid", "paid_at", "decision", "acknowledged_at", "closed_at", "revoked_at"}
# Not an aggregate's state: the HTTP status kept to replay a response.
NOT_A_STATE = {"app/domain/idempotency/service.py"}


def _is_model(path: Path) -> bool:
    return path.name == "model.py" or path.name.endswith("_model.py") or path.name == "models.py"


def _is_demo(path: Path) -> bool:
    return any(part.startswith("demo") for part in path.relative_to(ROOT / "app").parts)


def _targets(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.Assign):
        return node.targets
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        return [node.target]
    return []


def _flatten(target: ast.expr) -> list[ast.expr]:
    if isinstance(target, (ast.Tuple, ast.List)):
        return [t for elt in target.elts for t in _flatten(elt)]
    return [target]


def offenders(source: str, name: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        # One finding per assignment, however many guarded columns it sets.
        attrs = [t.attr for top in _targets(node) for t in _flatten(top) if isinstance(t, ast.Attribute) and t.attr in GUARDED]
        if attrs:
            found.append(f"{name}:{node.lineno}: {', '.join('.' + a for a in attrs)} assigned")
    return found


def scanned() -> list[Path]:
    return [p for p in sorted((ROOT / "app").rglob("*.py"))
            if not _is_model(p) and not _is_demo(p) and str(p.relative_to(ROOT)) not in NOT_A_STATE]


def test_no_state_is_assigned_outside_the_models():
    found = [o for p in scanned() for o in offenders(p.read_text(), str(p.relative_to(ROOT)))]
    assert not found, "call the aggregate's verb through audit.apply instead:\n" + "\n".join(found)


def test_the_scan_sees_what_it_refuses():
    # The rule itself: plain, tuple and augmented assignments are all caught, reads are not.
    source = ("order.status = S.done\nrequest.status, request.closed_at = R.cancelled, now\n"
              "charge.amount_paid += part\nif row.status == S.open:\n    pass\n")
    assert [o.split(": ")[0] for o in offenders(source, "x")] == ["x:1", "x:2", "x:3"]
    assert any(p.name == "dispatch.py" for p in scanned()) and not any(p.name == "model.py" for p in scanned())

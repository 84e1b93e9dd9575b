"""Docs that stay true: every problem `code` the code can raise is in docs/errors.md; the README points to
the repository's own copy of the HTTP contract (docs/api.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "backend", ROOT / "integrations"]
CODE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def _error_classes(trees: list[ast.Module]) -> set[str]:
    """DomainError and every class that derives from it, anywhere in the sources."""
    names = {"DomainError"}
    changed = True
    while changed:
        changed = False
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names:
                    bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", None) for b in node.bases}
                    if bases & names:
                        names.add(node.name)
                        changed = True
    return names


def _callee(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value):
        return node.value
    return None


def codes_in(sources: dict[str, str]) -> dict[str, str]:
    """Every literal problem code in `sources` ({path: text}), with where it was found first."""
    trees = {path: ast.parse(text) for path, text in sources.items()}
    raisers = _error_classes(list(trees.values())) | {"problem"}
    found: dict[str, str] = {}
    for path, tree in trees.items():
        for node in ast.walk(tree):
            candidates: list[ast.AST | None] = []
            if isinstance(node, ast.Call) and _callee(node) in raisers:
                first = 1 if _callee(node) == "problem" else 0  # problem(status, code, detail)
                if len(node.args) > first:
                    candidates.append(node.args[first])
                candidates += [k.value for k in node.keywords if k.arg == "code"]
            elif isinstance(node, ast.Dict):  # {"code": "rate_limited", …} written by hand (middleware)
                candidates += [v for k, v in zip(node.keys, node.values, strict=True) if _literal(k) == "code"]
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "_DEFAULT_CODES" for t in node.targets
            ):
                candidates += list(node.value.values) if isinstance(node.value, ast.Dict) else []
            for candidate in candidates:
                code = _literal(candidate)
                if code:
                    found.setdefault(code, f"{path}:{getattr(candidate, 'lineno', '?')}")
    return found


def _sources() -> dict[str, str]:
    return {
        str(p.relative_to(ROOT)): p.read_text()
        for base in SOURCES
        for p in base.rglob("*.py")
        # stand-ins speak their partner's error codes (Stripe's), not ours
        if "piccolo_migrations" not in p.parts and "standin" not in p.name and "simulator" not in p.name
    }


def documented_codes() -> set[str]:
    return set(re.findall(r"`([a-z][a-z0-9_]*)`", (ROOT / "docs" / "errors.md").read_text()))


def test_every_problem_code_is_in_errors_md() -> None:
    codes = codes_in(_sources())
    assert {"slot_full", "validation_error", "rate_limited", "venue_not_found"} <= set(codes), "collector is blind"
    missing = {code: where for code, where in codes.items() if code not in documented_codes()}
    assert not missing, f"codes raised but not in docs/errors.md: {missing}"


def test_the_collector_notices_an_undocumented_code() -> None:
    source = """
class Oops(Conflict):
    status = 409

def f():
    raise Oops("never_written_down", "x")

def g():
    raise NotFound(code="also_missing")
"""
    found = codes_in({"x.py": "class Conflict(DomainError): ...\nclass NotFound(DomainError): ...\n" + source})
    assert {"never_written_down", "also_missing"} <= set(found)
    assert not {"never_written_down", "also_missing"} & documented_codes()


def test_readme_points_to_the_repositorys_own_contract() -> None:
    readme = (ROOT / "README.md").read_text()
    api = ROOT / "docs" / "api.md"
    assert api.is_file() and "# Changxiang HTTP API" in api.read_text()
    assert "docs/api.md" in readme
    assert "shared/API.md" not in readme, "the README must not send readers outside the repository"

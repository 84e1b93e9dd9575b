"""A custom import-linter contract: no room imports another room's `_private` name.

import-linter's own `private_modules` contract covers modules named `_x`; this one covers names: a room
(`backend.<room>`, `integrations.<adapter>`) may not write `from backend.other.services import _take_seats`,
nor reach `_name` on a module of another room it imported (`services._close_slot`). A room that needs
something of another offers it under a public name. Registered in pyproject.toml ([tool.importlinter]).
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import grimp
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


@dataclass(frozen=True, order=True)
class PrivateReach:
    importer: str
    line: int
    target: str  # "module._name"


def _room(module: str, containers: set[str]) -> str | None:
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] in containers:
        return ".".join(parts[:2])
    return None


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def private_reaches(module: str, source: str, containers: set[str], is_package: bool = False) -> list[PrivateReach]:
    """Every place in `source` (the text of `module`) that takes a private name of another room."""
    own = _room(module, containers)
    found: list[PrivateReach] = []
    aliases: dict[str, str] = {}  # local name -> module of another room
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _resolve(module, node, is_package)
            for alias in node.names:
                full = f"{target}.{alias.name}"
                spec_room = _room(full, containers)
                if spec_room is None or spec_room == own:
                    continue
                if _is_private(alias.name):
                    found.append(PrivateReach(module, node.lineno, full))
                else:
                    aliases[alias.asname or alias.name] = full
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _room(alias.name, containers) not in (None, own) and alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            chain: list[str] = [node.attr]
            value = node.value
            while isinstance(value, ast.Attribute):
                chain.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name):
                head = aliases.get(value.id) or (value.id if value.id in containers else None)
                if head is None:
                    continue
                dotted = ".".join([head, *reversed(chain[1:])])
                if _room(dotted, containers) not in (None, own):
                    found.append(PrivateReach(module, node.lineno, f"{dotted}.{node.attr}"))
    return sorted(set(found))


class PrivateNamesContract(Contract):
    type_name = "private_names"

    containers = fields.SetField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        containers: set[str] = set(self.containers)  # type: ignore[arg-type]  # import-linter fields are untyped
        reaches: list[PrivateReach] = []
        for module in sorted(graph.modules):
            if _room(module, containers) is None:
                continue
            spec = importlib.util.find_spec(module)
            if spec is None or not spec.origin or not spec.origin.endswith(".py"):
                continue
            path = Path(spec.origin)
            reaches += private_reaches(module, path.read_text(), containers, is_package=path.name == "__init__.py")
        return ContractCheck(
            kept=not reaches,
            metadata={"reaches": [(r.importer, r.line, r.target) for r in reaches]},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, line, target in check.metadata["reaches"]:
            output.print_error(f"{importer}:{line} takes {target}, a private name of another room", bold=False)
            output.new_line()

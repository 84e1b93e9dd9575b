"""The floors of ARCHITECTURE.md hold, and the contract that keeps them would notice a breach.

`make lint` runs `lint-imports` on pyproject.toml's [tool.importlinter] contracts. These tests run the same
contracts on the real import graph, then on that graph with one forbidden import added, so a contract that
could never fail would be caught.

Convention 1 ("a room grows into sub-modules only when a file passes ~400 lines") is held the same way:
no module under backend/ (Piccolo's generated migrations aside) is longer than `MAX_MODULE_LINES`, and the
check is shown to catch a longer one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from importlinter.application import use_cases
from importlinter.configuration import configure, settings

from tools.import_contracts import private_reaches

ROOT = Path(__file__).resolve().parents[2]
CONTAINERS = {"backend", "integrations"}
MAX_MODULE_LINES = 400
# Modules over the limit that are not split yet, each with the length it may not grow past; remove an
# entry once its module is split (the test fails while an entry is stale).
NOT_SPLIT_YET: dict[str, int] = {}


@contextmanager
def _in_root() -> Iterator[None]:
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(here)


def _report(extra_imports: tuple[tuple[str, str], ...] = ()) -> dict[str, bool]:
    """{contract name: kept} for pyproject's contracts, with `extra_imports` added to the real graph."""
    configure()
    real_builder = settings.GRAPH_BUILDER

    class WithExtra:
        def build(self, *args, **kwargs):  # noqa: ANN002, ANN003 - import-linter's builder signature
            graph = real_builder.build(*args, **kwargs)
            for importer, imported in extra_imports:
                graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="import x")
            return graph

    settings.configure(GRAPH_BUILDER=WithExtra())
    try:
        with _in_root():
            use_cases._register_built_in_contract_types()  # what the lint-imports command does first
            report = use_cases.create_report(use_cases.read_user_options("pyproject.toml"))
    finally:
        settings.configure(GRAPH_BUILDER=real_builder)
    return {contract.name: check.kept for contract, check in report.get_contracts_and_checks()}


@pytest.fixture(scope="module")
def real() -> dict[str, bool]:
    return _report()


def test_every_contract_holds_on_the_code(real: dict[str, bool]) -> None:
    assert len(real) >= 5
    broken = [name for name, kept in real.items() if not kept]
    assert not broken, f"broken import contracts (run `make lint` for the detail): {broken}"


@pytest.mark.parametrize(
    ("importer", "imported", "contract"),
    [
        ("backend.lib.clock", "backend.passes.services", "lib/ imports no room"),
        ("backend.venues.services", "backend.governance.services", "Floors: wiring > bridges > services > core > lib"),
        ("backend.passes.services", "redis", "Only lib/ touches database engines and Redis clients"),
        ("backend.venues.services", "backend.reservations.services", "Rooms form no cycle"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    real: dict[str, bool], importer: str, imported: str, contract: str
) -> None:
    assert real[contract] is True, "the contract must hold before the breach for this test to mean anything"
    assert _report(((importer, imported),))[contract] is False


def test_a_private_reach_in_is_named() -> None:
    source = (
        "from backend.reservations.services import _take_seats, reservations\n"
        "from backend.passes import services as passes\n"
        "from backend.venues.services import _own_helper\n"
        "async def f():\n"
        "    await reservations._close_slot(1)\n"
        "    passes._decide()\n"
        "    return __name__\n"
    )
    found = {r.target for r in private_reaches("backend.venues.services", source, CONTAINERS)}
    assert found == {
        "backend.reservations.services._take_seats",
        "backend.reservations.services.reservations._close_slot",
        "backend.passes.services._decide",
    }


def _too_long(root: Path, limit: int = MAX_MODULE_LINES) -> dict[str, int]:
    """{path under `root`: its line count} for every Python module of backend/ longer than `limit`
    (Piccolo's generated migrations aside)."""
    found = {}
    for path in sorted((root / "backend").rglob("*.py")):
        if "piccolo_migrations" in path.parts:
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            found[path.relative_to(root).as_posix()] = lines
    return found


def test_every_backend_module_is_under_400_lines() -> None:
    too_long = _too_long(ROOT)
    grown = {
        path: lines for path, lines in too_long.items() if path not in NOT_SPLIT_YET or lines > NOT_SPLIT_YET[path]
    }
    assert not grown, (
        f"modules over {MAX_MODULE_LINES} lines: split each into cohesive sub-modules of its room "
        f"(ARCHITECTURE.md, convention 1): {grown}"
    )
    stale = sorted(set(NOT_SPLIT_YET) - set(too_long))
    assert not stale, f"{stale} are split now: remove them from NOT_SPLIT_YET"


def test_the_module_length_check_catches_a_long_module(tmp_path: Path) -> None:
    room = tmp_path / "backend" / "room"
    (room / "piccolo_migrations").mkdir(parents=True)
    (room / "services.py").write_text("x = 1\n" * (MAX_MODULE_LINES + 1), encoding="utf-8")
    (room / "schemas.py").write_text("x = 1\n" * MAX_MODULE_LINES, encoding="utf-8")
    (room / "piccolo_migrations" / "room_2026.py").write_text("x = 1\n" * 1000, encoding="utf-8")
    assert _too_long(tmp_path) == {"backend/room/services.py": MAX_MODULE_LINES + 1}

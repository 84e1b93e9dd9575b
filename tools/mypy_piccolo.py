"""A mypy plugin that tells the type checker what Piccolo does to a table class at import time.

`piccolo.table.Table.__init_subclass__` gives every table without a primary-key column a `Serial`
column named `id` (`setattr(cls, "id", ...)`), so `Venue.id` exists at run time but not in the
class body mypy reads, and every `Venue.id == ...` would be an `attr-defined` error. This plugin adds
the same `id: Serial` attribute to each direct subclass of `Table` whose body declares no column with
`primary_key=True`. Registered in pyproject.toml ([tool.mypy] plugins).
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.nodes import AssignmentStmt, CallExpr, NameExpr
from mypy.plugin import ClassDefContext, Plugin
from mypy.plugins.common import add_attribute_to_class

TABLE = "piccolo.table.Table"
SERIAL = "piccolo.columns.column_types.Serial"


def _declares_primary_key(ctx: ClassDefContext) -> bool:
    for statement in ctx.cls.defs.body:
        if not isinstance(statement, AssignmentStmt) or not isinstance(statement.rvalue, CallExpr):
            continue
        call = statement.rvalue
        for name, value in zip(call.arg_names, call.args, strict=True):
            if name == "primary_key" and isinstance(value, NameExpr) and value.fullname == "builtins.True":
                return True
    return False


def _add_serial_id(ctx: ClassDefContext) -> None:
    if "id" in ctx.cls.info.names or _declares_primary_key(ctx):
        return
    serial = ctx.api.named_type_or_none(SERIAL)
    if serial is None:  # piccolo's column module not analysed yet: ask mypy to come back to this class
        if not ctx.api.final_iteration:
            ctx.api.defer()
        return
    add_attribute_to_class(ctx.api, ctx.cls, "id", serial)


class PiccoloPlugin(Plugin):
    def get_base_class_hook(self, fullname: str) -> Callable[[ClassDefContext], None] | None:
        return _add_serial_id if fullname == TABLE else None


def plugin(version: str) -> type[Plugin]:
    return PiccoloPlugin

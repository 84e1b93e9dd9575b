"""Lists are `{"items": [...], "total": N}`, paged with `?limit=` (default 20, max 200) and `?offset=`."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

import msgspec
from litestar.params import Parameter

T = TypeVar("T")

MAX_LIMIT = 200

Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description="page size, 1–200")]
Offset = Annotated[int, Parameter(ge=0, le=1_000_000, description="items to skip")]


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int

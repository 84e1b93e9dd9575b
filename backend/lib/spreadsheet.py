"""CSV for spreadsheets: UTF-8 with a BOM (so Excel opens Chinese right) and cells a spreadsheet would
run as a formula neutralised (OWASP "CSV injection"): the open-data files and the merchants' settlements
write their cells with `csv_cell`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

# A spreadsheet runs a cell that starts with one of these as a formula; the full-width forms too, which
# Chinese input methods type and some spreadsheets read as the ASCII ones.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value: Any) -> Any:
    """One CSV cell: booleans as true/false, None empty, dates ISO, and text that a spreadsheet would
    run as a formula prefixed with `'` (shown as text, OWASP's advice). Numbers stay numbers."""
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        value = value.isoformat()
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A header and rows as CSV (CRLF lines), UTF-8 with a BOM, every cell through `csv_cell`."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([csv_cell(c) for c in columns])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")

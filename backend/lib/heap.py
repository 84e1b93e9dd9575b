"""Long-lived objects out of the garbage collector's way (issue 22).

CPython's cyclic garbage collector walks every container object in its oldest generation on each full
collection. A server holds a few hundred thousand of them that live as long as the process: imported
code, settings, and the finder's index (100,000 places are about 300,000 more). Measured in-process on
the finder's bench, one full collection took 0.2 s: every request in flight waited for it, and it was
the whole of the finder's p99. `gc.freeze()` moves every object alive at that moment into a permanent
generation that no collection scans; later objects are collected as before. This is what Python's
documentation advises for long-lived servers (and what Instagram's Django fleet does before forking).

The cost: an object frozen and later dropped inside a reference cycle is never freed. So the heap is
settled only at points where what is alive will stay alive (after start-up; after the finder's index
is rebuilt, whose old records hold no cycles and are freed by reference counting), and start-up
collects first. `CHANGXIANG_GC_FREEZE=false` turns it off (the test suite starts many apps in one
process and turns it off; tests/api/test_heap.py turns it on).
"""

from __future__ import annotations

import gc

from backend.settings import get_settings


def settle(*, collect: bool = False) -> bool:
    """Freeze every object alive now out of the collector's scans (after collecting garbage first when
    `collect`); False when turned off."""
    if not get_settings().gc_freeze:
        return False
    if collect:
        gc.collect()
    gc.freeze()
    return True

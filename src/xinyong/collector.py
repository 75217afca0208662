"""Python's cyclic garbage collector during bulk work.

Now and then the automatic collector walks the whole heap (a *full* collection). While a file
loads, the heap holds the catalog, SQLAlchemy's and the modules' objects: 335,000 of them in
``xinyong ingest`` of a court defaulter file, and one full collection walked them all in
0.13 s, once per 20,000 rows loaded (measured; about 6% of the load's time on PostgreSQL,
every thread stopped meanwhile). The rows themselves make no reference cycles: reference
counting frees them once their chunk is written, so walking the heap for them finds nothing.

``young_only()`` suspends automatic collection while the work inside it runs, and the work
calls ``collect_young()`` where it is safe and cheap to (the loader after each chunk): the
young generations only, where whatever cyclic garbage the chunk made still is. Work that
overlaps (two uploads on one API process) shares one suspension: the collector is on again
when the last of them ends, if it was on before the first began, however each one ends.

The collector is one per process: while a file loads in an API process, the threads serving
checks run without automatic collection too. Reference counting still frees what they
allocate; cycles they make are collected with the loader's after each chunk (a few seconds
apart at most), or when the load ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Suspension:
    """How many ``young_only`` blocks are running, and whether the collector was on before."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holders = 0
        self.was_enabled = False


_SUSPENSION = _Suspension()


@contextmanager
def young_only() -> Iterator[None]:
    """No automatic collection inside the block (see the module docstring)."""
    state = _SUSPENSION
    with state.lock:
        if state.holders == 0:
            state.was_enabled = gc.isenabled()
            gc.disable()
        state.holders += 1
    try:
        yield
    finally:
        with state.lock:
            state.holders -= 1
            if state.holders == 0 and state.was_enabled:
                gc.enable()


def collect_young() -> None:
    """Collect the two young generations (what a chunk of work allocated and left in cycles)."""
    gc.collect(1)

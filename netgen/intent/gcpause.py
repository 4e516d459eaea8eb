"""Pause CPython's cyclic garbage collector while a pipeline stage builds its data.

Each stage allocates millions of small objects (a national intent is ~2 million values) and
creates no reference cycles; the collector, triggered by allocation counts, would traverse all
of them again and again — a third of validate + resolve at national scale — and find nothing.
When the outermost stage ends, what exists is frozen (gc.freeze: out of the collector's sight)
before the collector resumes; otherwise its first run would traverse it all once more.
Reference counting still frees everything as usual.
"""
from __future__ import annotations

import functools
import gc
from contextlib import contextmanager


@contextmanager
def paused_gc():
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.freeze()
            gc.enable()


def without_gc(fn):
    """Decorate a stage's entry point: it runs with the collector paused."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        with paused_gc():
            return fn(*args, **kwargs)
    return run

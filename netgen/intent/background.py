"""Run a function in a forked copy of this process while this one goes on with other work.

The copy shares everything built so far (copy-on-write), so nothing is sent to it; only its
result comes back, pickled through a pipe. For work that reads the same data as the parent's
next step — the semantic rules while allocation runs, a share of the configs while this
process renders the rest — on a machine with a core to spare.
"""
from __future__ import annotations

import os
import pickle
import select
import signal
import threading
import traceback
from typing import Any, Callable


class InChild:
    def __init__(self, fn: Callable[[], Any]):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: run, send the result (or the error), leave without cleanup
            os.close(read)
            try:
                try:
                    data = pickle.dumps((True, fn()), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
                    data = pickle.dumps((False, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
                with os.fdopen(write, "wb") as out:
                    out.write(data)
            finally:
                os._exit(0)
        os.close(write)
        self.pid, self.pipe, self.reaped = pid, read, False

    def ready(self, timeout: float) -> bool:
        """Whether the child has started sending its result (it then soon ends), waiting at
        most `timeout` seconds to know."""
        return bool(select.select([self.pipe], [], [], timeout)[0])

    def result(self) -> Any:
        """Wait for the child; its return value, or RuntimeError with its traceback."""
        with os.fdopen(self.pipe, "rb") as pipe:
            data = pipe.read()
        self.reaped = True
        if os.waitpid(self.pid, os.WNOHANG)[0] == 0:
            # It has sent everything and is ending: unmapping a national model's memory takes
            # tens of milliseconds this process need not wait for. A thread reaps it.
            threading.Thread(target=os.waitpid, args=(self.pid, 0), daemon=True).start()
        if not data:
            raise RuntimeError("the background process ended without a result")
        ok, value = pickle.loads(data)
        if not ok:
            raise RuntimeError(f"in the background process: {value}")
        return value

    def close(self) -> None:
        """Stop the child if its result was never collected (this process is giving up)."""
        if self.reaped:
            return
        self.reaped = True
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:  # it had ended already: still ours to reap
            pass
        os.close(self.pipe)
        os.waitpid(self.pid, 0)


def cores() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1

"""Settling: what fails is re-run every few seconds until it passes or the time is up; what has
passed is never re-run. A fake clock and fake checks (the loop is netgen's own logic)."""
from __future__ import annotations

from netgen.verify.checks import Finding
from netgen.verify.settle import settle


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def finding(name: str, ok: bool) -> Finding:
    return Finding("ldp", name, "", ok, "up" if ok else "down", source=name)


def flaky(fails: dict[str, int]):
    """A re-run where check NAME fails fails[NAME] more times, then passes; records what it ran."""
    ran: list[list[str]] = []

    def rerun(failed):
        ran.append([f.source for f in failed])
        out = []
        for f in failed:
            fails[f.source] -= 1
            out.append(finding(f.source, fails[f.source] <= 0))
        return out
    return rerun, ran


def test_re_runs_only_what_fails_until_it_passes_and_says_how_long():
    clock = Clock()
    rerun, ran = flaky({"a": 1, "b": 3})
    first = [finding("ok", True), finding("a", False), finding("b", False)]
    notes = []
    findings, waited, settled = settle(first, rerun, timeout=60, interval=3, progress=notes.append,
                                       clock=clock, sleep=clock.sleep)
    assert settled and all(f.ok for f in findings) and len(findings) == 3
    assert ran == [["a", "b"], ["b"], ["b"]]  # "ok" never re-run; "a" not again once it passed
    assert waited == 9.0  # three waits of 3 s
    assert notes[0] == "2 check(s) still failing after 0 s; re-checking them (settling for up to 60 s)"


def test_gives_up_at_the_timeout_with_what_still_fails():
    clock = Clock()
    rerun, ran = flaky({"a": 100})
    findings, waited, settled = settle([finding("a", False)], rerun, timeout=10, interval=3,
                                       clock=clock, sleep=clock.sleep)
    assert not settled and waited == 10.0 and [f.ok for f in findings] == [False]
    assert len(ran) == 4  # at 3, 6, 9 and — the last wait cut to the timeout — 10 s


def test_no_settle_time_no_waiting():
    clock = Clock()
    rerun, ran = flaky({"a": 1})
    _, waited, settled = settle([finding("a", False)], rerun, timeout=0, clock=clock, sleep=clock.sleep)
    assert (waited, settled, ran) == (0.0, False, [])
    _, waited, settled = settle([finding("a", True)], rerun, timeout=180, clock=clock, sleep=clock.sleep)
    assert (waited, settled, ran) == (0.0, True, [])

"""The simulated device's own transactions: VRP8 two-stage commit points and trials, Comware 7
commit delay. Timers belong to the device, not to a session: they fire when the SSH session
that started them is gone (what makes a killed netgen harmless). `time_scale` shrinks the
device's seconds so a test does not wait a real minute.

Behaviour and texts, from the manuals:
- `commit` / `commit trial <60-65535>` (Huawei NetEngine 8000 F1A command reference, "commit
  (All views except the user view)"): trial output "Info: The system enters the trial
  configuration mode.\\nThe system will revert to previous configuration if the trial
  configuration is not confirmed in N seconds."; a plain `commit` during the trial confirms it.
- `abort trial` ("abort trial", same reference): asks "Warning: The trial configuration will be
  rolled back. Continue? [Y/N]:", then "Info: The trial configuration rollback succeeded.".
- commit points: ids from 1000000001, `display configuration commit list verbose` layout and
  `rollback configuration to commit-id X` (user view) returning to the config at point X, itself
  a new point of type ROLLBACK (NE40E V800R012C10 configuration guide, Example for
  Configuration Rollback).
- Comware `configuration commit delay <minutes>` / `configuration commit` (Comware 7
  Fundamentals Configuration Guide, "Configuring configuration commit delay"): changes apply at
  once; a rollback point is taken when the timer starts and kept if the timer is re-set; the
  device returns to it when the timer expires; `configuration commit` ends the timer. The guide
  shows no output for either command: the simulator prints none.
"""
from __future__ import annotations

import copy
import threading
import time

FIRST_ID = 1000000001


class Transactions:
    def __init__(self, device):
        self.device = device
        self.points: list[tuple[int, str, str, object]] = []   # (id, type, timestamp, tree after)
        self.trial: tuple[threading.Timer, object, object] | None = None   # timer, tree before, owner
        self.delay: tuple[threading.Timer, object] | None = None           # timer, rollback point
        self.events: list[str] = []                                         # what the timers did

    def _point(self, kind: str) -> int:
        ident = FIRST_ID + len(self.points)
        self.points.append((ident, kind, time.strftime("%Y-%m-%d %H:%M:%S"), copy.deepcopy(self.device.root)))
        return ident

    def _timer(self, seconds: float, fire) -> threading.Timer:
        timer = threading.Timer(seconds * self.device.time_scale, fire)
        timer.daemon = True
        timer.start()
        return timer

    # ---- VRP8 two-stage

    def commit(self, candidate, owner, trial: int | None = None) -> str:
        """The session's candidate becomes the running config; with `trial`, only for a while."""
        with self.device.lock:
            if trial is not None and not 60 <= trial <= 65535:
                return f"{' ' * 13}^\nError: Wrong parameter found at '^' position.\n"
            before = copy.deepcopy(self.device.root)
            self.device.root = copy.deepcopy(candidate)
            self.device._touch()
            if self.trial and self.trial[2] is owner:     # `commit` (or a new trial) in the trial's session
                self.trial[0].cancel()
                before = self.trial[1] if trial is not None else before
                self.trial = None
            self._point("CLI")
            if trial is None:
                return ""
            self.trial = (self._timer(trial, self._trial_expired), before, owner)
            return ("Info: The system enters the trial configuration mode.\nThe system will revert to previous "
                    f"configuration if the trial configuration is not confirmed in {trial} seconds.\n")

    def _trial_expired(self) -> None:
        with self.device.lock:
            if self.trial is None or self.trial[0] is not threading.current_thread():
                return
            self._revert(self.trial[1])
            self.trial = None
            self.events.append("trial expired: reverted")

    def abort_trial(self) -> str:
        with self.device.lock:
            if self.trial is None:
                return "Error: The system is not in the trial configuration mode.\n"   # wording: simulator's own
            self.trial[0].cancel()
            self._revert(self.trial[1])
            self.trial = None
            return "Info: The trial configuration rollback succeeded.\n"

    def _revert(self, tree) -> None:
        self.device.root = copy.deepcopy(tree)
        self.device._touch()
        self._point("ROLLBACK")

    def rollback_to(self, ident: int) -> str | None:
        with self.device.lock:
            tree = next((t for i, _, _, t in self.points if i == ident), None)
            if tree is None:
                return None
            self._revert(tree)
            return ""

    def commit_list(self) -> str:
        out = []
        for n, (ident, kind, stamp, _) in enumerate(reversed(self.points), 1):
            out.append(f"{n}) CommitId: {ident}\n        Label: -\n        User: netgen\n        User-Intf: VTY 0\n"
                       f"        Type: {kind}\n        TimeStamp: {stamp}\n        Description: \n")
        return "\n".join(out)

    # ---- Comware 7 commit delay

    def commit_delay(self, minutes: int) -> str:
        with self.device.lock:
            point = copy.deepcopy(self.device.root)
            if self.delay:
                self.delay[0].cancel()
                point = self.delay[1]                      # re-setting the timer keeps the rollback point
            self.delay = (self._timer(minutes * 60, self._delay_expired), point)
            return ""

    def _delay_expired(self) -> None:
        with self.device.lock:
            if self.delay is None or self.delay[0] is not threading.current_thread():
                return
            self.device.root = copy.deepcopy(self.delay[1])
            self.device._touch()
            self.delay = None
            self.events.append("commit delay expired: reverted")

    def confirm_delay(self) -> str:
        with self.device.lock:
            if self.delay:
                self.delay[0].cancel()
                self.delay = None
            return ""

"""Options and printing shared by plan, apply, approve, diff and verify."""
from __future__ import annotations

import sys


def add_target_options(p) -> None:
    from ._output import MAX_JOBS, bounded_int, nonempty

    p.add_argument("--lab", metavar="NAME", nargs="?", const="lab",
                   help="deploy to the routers of a lab (`netgen lab up`) instead of production "
                        "(NAME defaults to `lab`)")
    p.add_argument("--secrets", metavar="FILE", type=nonempty("secrets file path"),
                   help="secrets file outside the repository (default: $NETGEN_SECRETS)")
    p.add_argument("--workers", type=bounded_int(1, MAX_JOBS), default=20,
                   help="devices handled in parallel (default 20)")


def load_secrets(args, intent_dir=None):
    from ..deploy.secrets import Secrets

    return Secrets.load(args.secrets, intent_dir)


def console(stream=None, no_color: bool = False):
    from rich.console import Console

    stream = stream or sys.stdout
    return Console(file=stream, highlight=False, soft_wrap=True,
                   no_color=no_color or not stream.isatty(), force_terminal=None if stream.isatty() else False)


def print_diff(con, text: str) -> None:
    """A diff with `+` lines green and `-` lines red (at a terminal)."""
    from rich.text import Text

    for line in text.splitlines():
        body = line.lstrip()
        style = "green" if body.startswith("+") else "red" if body.startswith("-") else "dim"
        con.print(Text(line, style=style))


class Progress:
    """A nornir processor that shows one line per finished device on stderr, at a terminal."""

    def __init__(self, label: str):
        self.label, self.total, self.done = label, 0, 0
        self.tty = sys.stderr.isatty()

    def task_started(self, task):
        self.total, self.done = len(task.nornir.inventory.hosts), 0

    def task_completed(self, task, result):
        if self.tty and self.total:
            print(file=sys.stderr)

    def task_instance_started(self, task, host): pass
    def subtask_instance_started(self, task, host): pass
    def subtask_instance_completed(self, task, host, result): pass

    def task_instance_completed(self, task, host, result):
        self.done += 1
        if self.tty:
            state = "failed" if result.failed else "done"
            print(f"\r  {self.label} {self.done}/{self.total}: {host.name} {state}\033[K", end="", file=sys.stderr,
                  flush=True)

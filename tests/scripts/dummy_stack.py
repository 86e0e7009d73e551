"""A stack of the launcher's own making, with children that ignore SIGTERM (as
`rasa run actions` did) and start a grandchild, for tests of stopping; no Rasa needed.

python -m tests.scripts.dummy_stack <workdir> <stop seconds>
prints `pids <launcher's children and grandchildren>` once everything is "up".
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from scripts.stack import Ports, Stack, serve

# Ignores SIGTERM, starts a grandchild that does too (same process group), writes both pids.
STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
open(sys.argv[1], "w").write(f"{child.pid}\\n")
time.sleep(600)
"""


class DummyStack(Stack):
    def migrate(self, env: dict[str, str], timeout: float = 120) -> None:
        """The stand-ins keep no database: nothing to migrate."""

    def plan(self) -> dict[str, tuple[list[str], dict[str, str]]]:
        return {
            name: ([sys.executable, "-c", STUBBORN, str(self.workdir / f"{name}.grandchild")], {})
            for name in ("actions", "rasa", "bot")
        }

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        files = [self.workdir / f"{name}.grandchild" for name in self.processes]
        while not all(f.exists() and f.read_text().endswith("\n") for f in files):
            if time.monotonic() > deadline:
                raise RuntimeError("the dummy processes did not start")
            time.sleep(0.05)
        pids = [p.pid for p in self.processes.values()] + [int(f.read_text()) for f in files]
        print("pids", *pids, flush=True)


def main() -> int:
    workdir, stop_seconds = Path(sys.argv[1]), float(sys.argv[2])
    # Ports nothing listens on, so that `busy` lets it start.
    stack = DummyStack(Ports(rasa=1, actions=2, bot=3), workdir, stop_seconds=stop_seconds)
    return serve(stack)


if __name__ == "__main__":
    sys.exit(main())

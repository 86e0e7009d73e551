"""Run a command that is killed when the process that started it dies.

python -m scripts.die_with_parent <parent pid> <program> [args...]

The stack launcher starts every child through this (Linux `PR_SET_PDEATHSIG`, which an
exec keeps): even a launcher killed with SIGKILL leaves no Rasa or action server behind
holding its ports. The launcher asks the same for itself, with SIGTERM: `make` does not
pass a SIGTERM on to the command it runs, so `kill <make>` reaches the launcher this way.
Elsewhere than Linux the command just runs.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def on_parent_death(signum: int) -> None:
    """Have the kernel send `signum` to this process when its parent exits (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signum)
    except (OSError, AttributeError):  # not Linux: the launcher's own stop still applies
        pass


def main(argv: list[str]) -> int:
    parent, *command = argv
    on_parent_death(signal.SIGKILL)
    if os.getppid() != int(parent):  # the launcher died before prctl took effect
        return 1
    os.execv(command[0], command)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Start Rasa, the action server and the bot together; used by `make run` and the e2e tests.

.venv/bin/python -m scripts.stack                # ports from TOLK_PORT, TOLK_RASA_PORT,
                                                 # TOLK_ACTIONS_PORT; stays in the foreground
.venv/bin/python -m scripts.stack --check-ports  # exit 1, naming the process, if one is taken
.venv/bin/python -m scripts.stack --scaled       # two of each on PostgreSQL and Redis (the
                                                 # next port up for each second one)

Every child runs in a process group of its own (a Ctrl-C in the terminal reaches only this
launcher, which stops them in order) and dies with the launcher even if it is killed
(scripts/die_with_parent.py). Stopping sends SIGTERM to every group at once and SIGKILL to
whatever still runs STOP_SECONDS later: all three are gone within 10 s.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.logs import quiet_environment, start_redacting
from scripts.die_with_parent import on_parent_death
from tolk_core import internal_secrets
from tolk_core.project import GATEWAY_BIN, RASA_BIN

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "tolk.tar.gz"
# The variable that moves each process, as the README documents them.
PORT_VARIABLES = {"bot": "TOLK_PORT", "rasa": "TOLK_RASA_PORT", "actions": "TOLK_ACTIONS_PORT"}
# SIGTERM, then this long to finish what they do, then SIGKILL (which takes a moment).
STOP_SECONDS = 6.0
KILL_WAIT_SECONDS = 2.0


class StackError(RuntimeError):
    """The stack cannot start as configured; the message says what to do."""


class Stopped(Exception):
    """Asked to stop (Ctrl-C, SIGTERM) while starting; what had started is stopped."""


@dataclass
class Ports:
    rasa: int = 5005
    actions: int = 5055
    bot: int = 8080

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Ports:
        defaults = cls()
        values = {}
        for name, variable in PORT_VARIABLES.items():
            raw = env.get(variable, "").strip()
            if not raw:
                values[name] = getattr(defaults, name)
                continue
            if not raw.isdigit() or not 1 <= int(raw) <= 65535:
                raise StackError(f"{variable} must be a port number (1-65535), got {raw!r}")
            values[name] = int(raw)
        ports = cls(**values)
        seen: dict[int, str] = {}
        for name, port in vars(ports).items():
            if port in seen:
                raise StackError(
                    f"{PORT_VARIABLES[seen[port]]} and {PORT_VARIABLES[name]} are both {port}"
                )
            seen[port] = name
        return ports


@dataclass
class Stack:
    ports: Ports
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    commands: dict[str, tuple[list[str], dict[str, str]]] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    stop_seconds: float = STOP_SECONDS
    stop_requested: bool = False
    # How many of each process (`--scaled`: 2). Replica n listens n-1 ports above the
    # first; each Rasa calls its own action server, each gateway spreads over every Rasa.
    replicas: int = 1
    _hurry: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str], workdir: Path) -> Stack:
        """The stack `make run` starts: ports and everything else from the environment."""
        return cls(Ports.from_env(env), workdir, env=dict(env))

    @property
    def bot_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.bot}"

    @property
    def bot_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{ports.bot}" for ports in self.replica_ports()]

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{ports.rasa}" for ports in self.replica_ports()]

    def replica_ports(self) -> list[Ports]:
        base = self.ports
        return [
            Ports(rasa=base.rasa + n, actions=base.actions + n, bot=base.bot + n)
            for n in range(self.replicas)
        ]

    @property
    def admin_token(self) -> str:
        return self.secrets[internal_secrets.ADMIN_TOKEN]

    def start(self, timeout: float = 240) -> None:
        problems = [p for ports in self.replica_ports() for p in busy(ports)]
        if problems:
            raise StackError("\n".join(problems))
        if self.replicas > 1:
            check_shared_stores(self.env)
        self.workdir.mkdir(parents=True, exist_ok=True)
        # var/secrets/ for `make run`: where `python -m bot ...` finds the same values.
        self.secrets = internal_secrets.resolve(
            {**os.environ, **self.env}, self.workdir / "secrets"
        )
        try:
            plan = self.plan()
            self.migrate(plan["bot"][1])
            for name, (command, env) in plan.items():
                if self.stop_requested:
                    raise Stopped
                self.spawn(name, command, env)
            self.wait_healthy(timeout)
        except BaseException:  # Ctrl-C or a failure while starting: nothing stays behind
            self.stop()
            raise

    def plan(self) -> dict[str, tuple[list[str], dict[str, str]]]:
        """Each process's command and environment, in the order they start."""
        tracker_db = self.workdir / "rasa-tracker.db"
        base = {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            **self.env,
            **self.secrets,
            # endpoints.yml reads these (Rasa expands ${...}); the bot reads TOLK_PORT.
            **{PORT_VARIABLES[name]: str(port) for name, port in vars(self.ports).items()},
            "TOLK_RASA_URL": f"http://127.0.0.1:{self.ports.rasa}",
            "TOLK_ACTIONS_URL": f"http://127.0.0.1:{self.ports.actions}",
            "TOLK_RASA_TRACKER_DB": str(tracker_db),
            # Rasa's tracker store (endpoints.yml), where erasing a customer erases their
            # tracker too: SQLite in the work directory unless given (PostgreSQL).
            "TOLK_TRACKER_URL": self.env.get("TOLK_TRACKER_URL", "").strip()
            or f"sqlite:///{tracker_db}",
            **lock_store_variables(self.env.get("TOLK_REDIS_URL", "")),
        }
        # Rasa imports rasa_channels/ and the action server actions/ from the checkout.
        extra = base.get("PYTHONPATH", "")
        base["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT), *(p for p in extra.split(os.pathsep) if p and p != str(ROOT))]
        )
        # The bot and the action server (account forms, demo shop) share one database.
        base.setdefault("TOLK_DATABASE_URL", f"sqlite:///{self.workdir / 'tolk.db'}")
        base["TOLK_RASA_URL"] = ",".join(self.rasa_urls)
        plan: dict[str, tuple[list[str], dict[str, str]]] = {}
        for kind in ("actions", "rasa", "bot"):  # the order they start in
            for number, ports in enumerate(self.replica_ports(), start=1):
                name = kind if number == 1 else f"{kind}{number}"
                # Each replica's own ports (endpoints.yml: its action server, its /nlg).
                env = {
                    **base,
                    **{PORT_VARIABLES[n]: str(port) for n, port in vars(ports).items()},
                    "TOLK_ACTIONS_URL": f"http://127.0.0.1:{ports.actions}",
                }
                plan[name] = self._command(kind, ports, env)
        return plan

    def _command(
        self, kind: str, ports: Ports, env: dict[str, str]
    ) -> tuple[list[str], dict[str, str]]:
        if kind == "actions":
            return [str(RASA_BIN / "python"), "-m", "scripts.actions_server",
                    "--host", "127.0.0.1", "--port", str(ports.actions)], env  # fmt: skip
        if kind == "rasa":
            rasa_env = {k: v for k, v in env.items() if k != internal_secrets.ADMIN_TOKEN}
            # scripts/rasa_server.py: `rasa run`, checking each response schema once.
            return [str(RASA_BIN / "python"), "-m", "scripts.rasa_server", "run",
                    "--model", str(MODEL),
                    "--endpoints", str(ROOT / "endpoints.yml"),
                    "--credentials", str(ROOT / "credentials.yml"), "-i", "127.0.0.1",
                    "-p", str(ports.rasa)], rasa_env  # fmt: skip
        return [str(GATEWAY_BIN / "python"), "-m", "bot", "serve"], env

    def migrate(self, env: dict[str, str], timeout: float = 120) -> None:
        """The database schema to head, once, before any process starts (bot/migrations/):
        the gateway only checks it, so replicas never race to migrate."""
        command = [str(GATEWAY_BIN / "python"), "-m", "bot", "db", "upgrade"]
        try:
            result = subprocess.run(
                command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired as error:
            raise StackError(f"migrating the database took over {timeout:.0f}s") from error
        if result.returncode != 0:
            raise StackError(f"migrating the database failed: {result.stderr.strip()[-2000:]}")

    def spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.commands[name] = (command, env)
        guarded = [sys.executable, "-m", "scripts.die_with_parent", str(os.getpid()), *command]
        self.processes[name] = subprocess.Popen(
            guarded,
            cwd=ROOT,
            env=quiet_environment(env),  # never Rasa's DEBUG, which logs every message
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # The log gets the output redacted: no customer's text, address or number in it.
        start_redacting(self.processes[name].stdout, open(self.workdir / f"{name}.log", "ab"))

    def revive(self, timeout: float = 240) -> None:
        """Start again whatever was stopped (tests that stop parts of the stack use it)."""
        self.respawn()
        self.wait_healthy(timeout)

    def respawn(self) -> None:
        """Start again whatever was stopped, without waiting for it.

        Call it from a thread that lives as long as the processes: the kernel's
        parent-death signal (scripts/die_with_parent.py) fires when the *thread* that
        started a child ends, so a Rasa started from a worker thread is killed when the
        thread pool shuts down (a fault test lost its Rasa that way)."""
        for name, process in list(self.processes.items()):
            if process.poll() is not None:
                self.spawn(name, *self.commands[name])

    def wait_healthy(self, timeout: float) -> None:
        """Every gateway healthy: it answers, and so do its database, a Rasa and the
        action server (with replicas, every Rasa too: each gateway's /healthz needs one)."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        waiting = list(self.bot_urls)
        rasas = [f"{url}/" for url in self.rasa_urls]
        while time.monotonic() < deadline:
            if self.stop_requested:
                raise Stopped
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise StackError(f"{name} exited with {process.returncode}: {self.tail(name)}")
            for url in list(waiting):
                healthy, last = self._healthy(url)
                if healthy:
                    waiting.remove(url)
            if not waiting:
                if all(_answers_http(url) for url in rasas):
                    return
                last = "a Rasa replica does not answer yet"
            time.sleep(0.5)
        raise StackError(f"not healthy after {timeout:.0f}s: {last}")

    def _healthy(self, url: str) -> tuple[bool, str]:
        request = urllib.request.Request(
            f"{url}/healthz",
            headers={"Authorization": f"Bearer {self.secrets.get('TOLK_ADMIN_TOKEN')}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return response.status == 200, f"HTTP {response.status}"
        except urllib.error.HTTPError as error:
            return False, error.read().decode(errors="replace")
        except (urllib.error.URLError, OSError) as error:
            return False, str(error)

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.workdir / f"{name}.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )

    def request_stop(self) -> None:
        """From a signal handler: stop soon; asked twice, kill without waiting."""
        if self.stop_requested:
            self._hurry = True
        self.stop_requested = True

    def stop(self, name: str | None = None) -> list[str]:
        """SIGTERM to each process group at once, SIGKILL after `stop_seconds`; the names
        of the processes that had to be killed."""
        names = [name] if name else list(self.processes)
        running = {
            each: process
            for each in names
            if (process := self.processes.get(each)) and process.poll() is None
        }
        for process in running.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_seconds
        while (
            time.monotonic() < deadline
            and not self._hurry
            and any(process.poll() is None for process in running.values())
        ):
            time.sleep(0.05)
        killed = [each for each, process in running.items() if process.poll() is None]
        for process in running.values():
            # Also what the leader left behind in its group.
            _signal_group(process, signal.SIGKILL)
        for process in running.values():
            try:
                process.wait(timeout=KILL_WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                pass  # stuck in the kernel; nothing more a launcher can do
        return killed


def lock_store_variables(redis_url: str) -> dict[str, str]:
    """What endpoints.yml's lock_store reads: Rasa's RedisLockStore when TOLK_REDIS_URL
    (redis://[:password@]host[:port][/db]) is set, else its in-memory one. Every variable
    is set either way: Rasa refuses a ${VARIABLE} it cannot expand."""
    if not redis_url.strip():
        return {
            "TOLK_RASA_LOCK_STORE": "in_memory",
            "TOLK_RASA_REDIS_HOST": "",
            "TOLK_RASA_REDIS_PORT": "",
            "TOLK_RASA_REDIS_DB": "",
            "TOLK_RASA_REDIS_PASSWORD": "",
        }
    parsed = urllib.parse.urlsplit(redis_url.strip())
    if parsed.scheme != "redis" or not parsed.hostname:
        raise StackError(f"TOLK_REDIS_URL must look like redis://host:6379/0, got {redis_url!r}")
    try:
        port = parsed.port or 6379
    except ValueError as error:
        raise StackError(f"TOLK_REDIS_URL has a bad port: {error}") from None
    db = parsed.path.strip("/") or "0"
    if not db.isdigit():
        raise StackError(f"TOLK_REDIS_URL: the database must be a number, got {db!r}")
    return {
        "TOLK_RASA_LOCK_STORE": "redis",
        "TOLK_RASA_REDIS_HOST": parsed.hostname,
        "TOLK_RASA_REDIS_PORT": str(port),
        "TOLK_RASA_REDIS_DB": db,
        "TOLK_RASA_REDIS_PASSWORD": urllib.parse.unquote(parsed.password or ""),
    }


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def busy(ports: Ports) -> list[str]:
    """A sentence per port that something already listens on, naming that process."""
    problems = []
    for name, port in vars(ports).items():
        owners = listeners(port)
        if not owners and not _answers(port):
            continue
        variable = PORT_VARIABLES[name]
        if owners:
            who = "; ".join(f"pid {pid}: {command}" for pid, command in owners)
            hint = f"stop it (kill {' '.join(str(pid) for pid, _ in owners)})"
        else:
            who = "a process this user cannot see"
            hint = f"find it with `sudo ss -ltnp 'sport = :{port}'`"
        problems.append(
            f"port {port} ({name}, {variable}) is taken by {who}. "
            f"A Tolk still running? {hint.capitalize()}, or use another port: "
            f"{variable}={port + 1} make run"
        )
    return problems


def _answers_http(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def check_shared_stores(env: Mapping[str, str]) -> None:
    """Replicas share PostgreSQL and Redis, or they would each keep their own truth."""
    database = env.get("TOLK_DATABASE_URL", "")
    if not database.startswith("postgresql") or not env.get("TOLK_REDIS_URL", "").strip():
        raise StackError(
            "the scaled profile needs PostgreSQL (TOLK_DATABASE_URL=postgresql://...) and "
            "Redis (TOLK_REDIS_URL=redis://...): `make run-scaled` starts both"
        )


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def listeners(port: int) -> list[tuple[int, str]]:
    """(pid, command line) of every process listening on TCP `port`, from /proc.

    Standard Linux, no extra package: the listening sockets' inodes from /proc/net/tcp
    and tcp6, then the processes holding them from /proc/<pid>/fd. Processes of other
    users are invisible unless we are root."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{inode}]")
    owners = []
    if not inodes:
        return owners
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            holds = any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir())
            if holds:
                raw = (proc / "cmdline").read_bytes()
                owners.append(
                    (int(proc.name), raw.replace(b"\0", b" ").decode(errors="replace").strip())
                )
        except OSError:  # gone meanwhile, or another user's
            continue
    return sorted(owners)


def _telegram_line(env: Mapping[str, str]) -> str:
    """What the bot does with Telegram, from the environment the stack gives it."""
    if not env.get("TELEGRAM_TOKEN", "").strip():
        return ""
    webhook = env.get("TELEGRAM_WEBHOOK_URL", "").strip()
    how = f"webhook {webhook}" if webhook else "polling"
    return f"  Telegram:   on ({how}); errors in var/bot.log\n"


def _replicas_line(stack: Stack) -> str:
    if stack.replicas == 1:
        return ""
    others = stack.replica_ports()[1:]
    return (
        f"  Replicas:   gateways {', '.join(stack.bot_urls)}; Rasa "
        f"{', '.join(str(p.rasa) for p in [stack.ports, *others])}; actions "
        f"{', '.join(str(p.actions) for p in [stack.ports, *others])} (PostgreSQL, Redis)\n"
    )


def _where_admin_token(stack: Stack) -> str:
    if stack.env.get(internal_secrets.ADMIN_TOKEN, "").strip():
        return "$TOLK_ADMIN_TOKEN"
    return f"$(cat {_shown(stack.workdir / 'secrets' / 'admin_token')})"


def _shown(path: Path) -> str:
    """`var/bot.log` rather than the full path, when under the checkout."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def serve(stack: Stack) -> int:
    """Start `stack`, say where to chat, and stop it all on Ctrl-C, SIGTERM or SIGHUP, or
    when the parent (`make run`) exits."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: stack.request_stop())
    parent = os.getppid()
    # `make` does not pass a SIGTERM on to its command, but its exit reaches us this way.
    on_parent_death(signal.SIGTERM)
    if os.getppid() != parent:
        return 1  # gone already
    names = [name for name, _ in stack.plan().items()]
    logs = ", ".join(_shown(stack.workdir / f"{name}.log") for name in names)
    print("Starting the action server, Rasa and the bot (Rasa takes about 30 s to load)...")
    try:
        stack.start()
    except Stopped:
        print("stopped before Tolk was up", flush=True)
        return 0
    except (StackError, internal_secrets.SecretError, OSError) as error:
        print(f"Tolk did not start: {error}\nLogs: {logs}", file=sys.stderr, flush=True)
        return 1
    try:
        print(
            f"\nTolk is running.\n"
            f"  Web chat:   {stack.bot_url}/\n"
            f"  REST API:   POST {stack.bot_url}/api/v1/messages  "
            f'{{"sender": "me", "text": "hi"}}\n'
            f"  Console:    {stack.bot_url}/console  (agents: python -m bot agents add --help)\n"
            f"  Health:     {stack.bot_url}/healthz  (which part is down: "
            f"Authorization: Bearer {_where_admin_token(stack)})\n"
            f"{_replicas_line(stack)}"
            f"  Rasa:       http://127.0.0.1:{stack.ports.rasa}   "
            f"actions: http://127.0.0.1:{stack.ports.actions}\n"
            f"{_telegram_line({**os.environ, **stack.env})}"
            f"  Logs:       {logs}\n"
            f"Press Ctrl-C to stop.",
            flush=True,
        )
        while not stack.stop_requested:
            crashed = [n for n, process in stack.processes.items() if process.poll() is not None]
            if crashed:
                print(
                    f"{', '.join(crashed)} stopped; see {_shown(stack.workdir / crashed[0])}.log",
                    file=sys.stderr,
                )
                return 1
            time.sleep(0.2)
        print("\nstopping...", flush=True)
        return 0
    finally:
        killed = stack.stop()
        if killed:
            print(
                f"{', '.join(killed)} did not stop within {stack.stop_seconds:.0f} s of "
                "SIGTERM: killed",
                file=sys.stderr,
            )
        print("stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.stack", description=__doc__)
    parser.add_argument(
        "--check-ports", action="store_true", help="exit 1 if a port is taken, naming who"
    )
    parser.add_argument(
        "--scaled", action="store_true", help="two of each process, on PostgreSQL and Redis"
    )
    args = parser.parse_args(argv)
    try:
        stack = Stack.from_env(os.environ, ROOT / "var")
        if args.scaled:
            stack.replicas = 2
            check_shared_stores(stack.env)
    except StackError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    if args.check_ports:
        problems = [p for ports in stack.replica_ports() for p in busy(ports)]
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    if not MODEL.exists():
        print(
            "No trained model: run `make train` (or `make run`, which trains first).",
            file=sys.stderr,
        )
        return 1
    return serve(stack)


if __name__ == "__main__":
    sys.exit(main())

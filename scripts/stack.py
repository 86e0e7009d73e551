"""Start Rasa, the action server and the bot together; used by `make run` and the e2e tests.

.venv/bin/python -m scripts.stack            # default ports, stays in the foreground
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "tolk.tar.gz"


@dataclass
class Ports:
    rasa: int = 5005
    actions: int = 5055
    bot: int = 8080


@dataclass
class Stack:
    ports: Ports
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    commands: dict[str, tuple[list[str], dict[str, str]]] = field(default_factory=dict)

    @property
    def bot_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.bot}"

    def start(self, timeout: float = 240) -> None:
        busy = [f"{name} port {port}" for name, port in vars(self.ports).items() if _in_use(port)]
        if busy:
            raise RuntimeError(
                f"{', '.join(busy)} already in use: is Tolk (or another server) running?"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        endpoints = self._endpoints()
        base_env = {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONPATH": str(ROOT),
            **self.env,
        }
        # The bot and the action server (account forms, demo shop) share one database.
        base_env["TOLK_DATABASE_URL"] = base_env.get(
            "TOLK_DATABASE_URL", f"sqlite:///{self.workdir / 'tolk.db'}"
        )
        self._spawn(
            "actions",
            [
                str(BIN / "rasa"),
                "run",
                "actions",
                "--actions",
                "actions",
                "-p",
                str(self.ports.actions),
            ],
            {**base_env, "SANIC_HOST": "127.0.0.1"},
        )
        self._spawn(
            "rasa",
            [
                str(BIN / "rasa"), "run", "--model", str(MODEL), "--endpoints", str(endpoints),
                "--credentials", str(ROOT / "credentials.yml"), "-i", "127.0.0.1",
                "-p", str(self.ports.rasa),
            ],
            base_env,
        )  # fmt: skip
        self._spawn(
            "bot",
            [str(BIN / "python"), "-m", "bot", "serve"],
            {
                **base_env,
                "TOLK_PORT": str(self.ports.bot),
                "TOLK_RASA_URL": f"http://127.0.0.1:{self.ports.rasa}",
                "TOLK_ACTIONS_URL": f"http://127.0.0.1:{self.ports.actions}",
                # Rasa's tracker store, so that erasing a customer erases their tracker too.
                "TOLK_TRACKER_URL": f"sqlite:///{self.workdir / 'rasa-tracker.db'}",
            },
        )
        self.wait_healthy(timeout)

    def _endpoints(self) -> Path:
        """endpoints.yml pointed at this stack's ports and tracker database."""
        text = (ROOT / "endpoints.yml").read_text(encoding="utf-8")
        text = text.replace("127.0.0.1:5055", f"127.0.0.1:{self.ports.actions}")
        text = text.replace("127.0.0.1:8080", f"127.0.0.1:{self.ports.bot}")
        text = text.replace(
            '"var/rasa-tracker.db"', json.dumps(str(self.workdir / "rasa-tracker.db"))
        )
        path = self.workdir / "endpoints.yml"
        path.write_text(text, encoding="utf-8")
        return path

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.commands[name] = (command, env)
        log = open(self.workdir / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def revive(self, timeout: float = 240) -> None:
        """Start again whatever was stopped (tests that stop parts of the stack use it)."""
        for name, process in list(self.processes.items()):
            if process.poll() is not None:
                self._spawn(name, *self.commands[name])
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {process.returncode}: {self.tail(name)}"
                    )
            try:
                with urllib.request.urlopen(f"{self.bot_url}/healthz", timeout=5) as response:
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as error:
                last = error.read().decode(errors="replace")
            except (urllib.error.URLError, OSError) as error:
                last = str(error)
            time.sleep(1)
        raise RuntimeError(f"not healthy after {timeout:.0f}s: {last}")

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.workdir / f"{name}.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )

    def stop(self, name: str | None = None) -> None:
        names = [name] if name else list(self.processes)
        for each in names:
            process = self.processes.get(each)
            if process and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for each in names:
            process = self.processes.get(each)
            if process:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def _in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _stop_on_sigterm(signum, frame) -> None:
    # `kill` (or a process manager) stops the stack as Ctrl-C does, children included.
    raise KeyboardInterrupt


def _telegram_line() -> str:
    if not os.environ.get("TELEGRAM_TOKEN"):
        return ""
    webhook = os.environ.get("TELEGRAM_WEBHOOK_URL")
    how = f"webhook {webhook}" if webhook else "polling"
    return f"  Telegram:   on ({how}); errors in var/bot.log\n"


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    if not MODEL.exists():
        print(
            "No trained model: run `make train` (or `make run`, which trains first).",
            file=sys.stderr,
        )
        return 1
    stack = Stack(Ports(), ROOT / "var")
    print("Starting the action server, Rasa and the bot (Rasa takes about 30 s to load)...")
    try:
        stack.start()
    except RuntimeError as error:
        print(
            f"Tolk did not start: {error}\nLogs: var/actions.log, var/rasa.log, var/bot.log",
            file=sys.stderr,
        )
        stack.stop()
        return 1
    print(
        f"\nTolk is running.\n"
        f"  Web chat:   {stack.bot_url}/\n"
        f'  REST API:   POST {stack.bot_url}/api/v1/messages  {{"sender": "me", "text": "hi"}}\n'
        f"  Console:    {stack.bot_url}/console  (agents: python -m bot agents add --help)\n"
        f"  Health:     {stack.bot_url}/healthz\n"
        f"{_telegram_line()}"
        f"  Logs:       var/bot.log, var/rasa.log, var/actions.log\n"
        f"Press Ctrl-C to stop."
    )
    try:
        while all(process.poll() is None for process in stack.processes.values()):
            time.sleep(1)
        crashed = [name for name, process in stack.processes.items() if process.poll() is not None]
        print(f"{', '.join(crashed)} stopped; see var/{crashed[0]}.log", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping...")
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())

"""`python -m bot bench --full`: the real stack against Rasa's REST webhook, in one run.

The stack (action server, `rasa run` on models/tolk.tar.gz, the gateway) starts on free
loopback ports in a temporary directory (scripts/stack.py). For each number of
conversations N, N customers talk at once, each a new sender sending M messages one at a
time and waiting for the answer (no pause in between), once through the gateway
(`POST /api/v1/messages`, "full") and once straight to Rasa's REST webhook with the
gateway's secret ("bare", the same model and action server; Rasa still renders its
responses through the gateway's /nlg, as it always does). Both paths get the same
conversations, in rounds ordered full, bare, bare, full (then bare, full, full, bare for
the next N), so that whatever else loads the machine meanwhile falls on both.

The last line printed is one JSON object (see `summary_line`).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import secrets
import signal
import socket
import statistics
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Protocol

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector

DEFAULT_CONVERSATIONS = (1, 10, 50)
DEFAULT_MESSAGES = 12
# Rounds per path and N; with 2 the order is ABBA, which cancels a steady drift in load.
ROUNDS = 2
# At 50 conversations a message waits seconds behind the others; far beyond that is stuck.
REQUEST_TIMEOUT = 120.0
STACK_TIMEOUT = 300.0

# What a customer of the demo shop asks, in each language the model is trained on: a
# greeting, the questions people ask most, thanks and goodbye. Nothing that asks for a
# person or sounds angry: a handoff would take the conversation away from Rasa.
TEXTS: dict[str, tuple[str, ...]] = {
    "en": (
        "hi there",
        "how long does delivery usually take?",
        "do you ship to other countries?",
        "what does shipping cost?",
        "can I pay with paypal?",
        "what is your return policy?",
        "how long is the warranty on electronics?",
        "do you sell gift cards?",
        "when is customer service open?",
        "can I still change my order?",
        "thanks, that helps a lot",
        "bye!",
    ),
    "nl": (
        "hoi",
        "hoe lang duurt de levering meestal?",
        "versturen jullie ook naar het buitenland?",
        "wat kost de verzending?",
        "kan ik met paypal betalen?",
        "hoe werkt retourneren bij jullie?",
        "hoe lang heb ik garantie op elektronica?",
        "verkopen jullie cadeaukaarten?",
        "wanneer is de klantenservice bereikbaar?",
        "kan ik mijn bestelling nog wijzigen?",
        "dank je wel, dat helpt",
        "doei!",
    ),
    "he": (
        "היי, שלום",
        "כמה זמן לוקח המשלוח בדרך כלל?",
        'אתם שולחים גם לחו"ל?',
        "כמה עולה המשלוח?",
        "אפשר לשלם בפייפאל?",
        "מה מדיניות ההחזרות שלכם?",
        "כמה זמן האחריות על מוצרי חשמל?",
        "אתם מוכרים כרטיסי מתנה?",
        "מתי שירות הלקוחות זמין?",
        "אפשר עוד להוסיף מוצר להזמנה שלי?",
        "תודה רבה, זה עזר",
        "ביי!",
    ),
    "fa": (
        "سلام وقت بخیر",
        "ارسال معمولاً چقدر طول می‌کشه؟",
        "به خارج از کشور هم ارسال دارید؟",
        "هزینه ارسال چقدره؟",
        "می‌تونم با پی‌پال پرداخت کنم؟",
        "شرایط مرجوع کردن کالا چیه؟",
        "گارانتی لوازم الکترونیکی چند وقته؟",
        "کارت هدیه دارید؟",
        "پشتیبانی چه ساعتی جواب میده؟",
        "هنوز می‌تونم سفارشم رو تغییر بدم؟",
        "خیلی ممنون، کمکم کرد",
        "خداحافظ",
    ),
    "vi": (
        "chào shop",
        "giao hàng thường mất bao lâu vậy?",
        "shop có giao hàng ra nước ngoài không?",
        "phí vận chuyển bao nhiêu?",
        "mình trả bằng paypal được không?",
        "chính sách đổi trả thế nào ạ?",
        "đồ điện tử bảo hành bao lâu?",
        "shop có bán thẻ quà tặng không?",
        "bộ phận chăm sóc khách hàng làm việc giờ nào?",
        "mình có thể sửa đơn hàng được không?",
        "cảm ơn nhiều nha",
        "tạm biệt",
    ),
}


# Cumulative CPU seconds per kind of process (bot, rasa, actions) since they started.
CpuClock = Callable[[], dict[str, float]]


class BenchError(RuntimeError):
    """The bench cannot run as asked; the message says why."""


@dataclass(frozen=True)
class Target:
    """One way in: where to post a customer's message and how to phrase it."""

    name: str
    url: str
    headers: dict[str, str]
    # Rasa's REST channel takes `message`, the gateway `text`.
    text_field: str
    # Replicas (the scaled profile) beside `url`: a customer keeps to one, as behind a
    # load balancer with sticky sessions.
    more_urls: tuple[str, ...] = ()

    def url_for(self, sender: str) -> str:
        urls = (self.url, *self.more_urls)
        return urls[zlib.crc32(sender.encode()) % len(urls)]

    def body(self, sender: str, text: str, language: str) -> dict:
        body: dict = {"sender": sender, self.text_field: text}
        if self.text_field == "message":
            # What the gateway tells Rasa at least, so that /nlg answers in this language.
            body["metadata"] = {"language": language}
        return body


def gateway_target(base_url: str, *more: str) -> Target:
    paths = [f"{url}/api/v1/messages" for url in (base_url, *more)]
    return Target("full", paths[0], {}, "text", tuple(paths[1:]))


def rasa_target(base_url: str, rasa_secret: str, *more: str) -> Target:
    paths = [f"{url}/webhooks/rest/webhook" for url in (base_url, *more)]
    return Target(
        "bare", paths[0], {"Authorization": f"Bearer {rasa_secret}"}, "message", tuple(paths[1:])
    )


@dataclass
class Round:
    """One path's latencies (seconds) for one round of N conversations, its wall time,
    and the CPU seconds each kind of process spent meanwhile (when the stack tells)."""

    latencies: list[float]
    seconds: float
    errors: int
    cpu: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PathFigures:
    messages: int
    errors: int
    p50_ms: float
    p95_ms: float
    msgs_per_s: float
    cpu_ms_per_msg: dict[str, float] = field(default_factory=dict)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with `share` of them at or below it."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def figures(rounds: Sequence[Round]) -> PathFigures:
    """Latency over every answered message; throughput as all messages over all wall time."""
    latencies = [latency for one in rounds for latency in one.latencies]
    errors = sum(one.errors for one in rounds)
    seconds = sum(one.seconds for one in rounds)
    if not latencies:
        return PathFigures(0, errors, math.nan, math.nan, 0.0)
    kinds = sorted({kind for one in rounds for kind in one.cpu})
    return PathFigures(
        messages=len(latencies),
        errors=errors,
        p50_ms=statistics.median(latencies) * 1000,
        p95_ms=percentile(latencies, 0.95) * 1000,
        msgs_per_s=len(latencies) / seconds if seconds > 0 else math.inf,
        cpu_ms_per_msg={
            kind: round(sum(one.cpu.get(kind, 0.0) for one in rounds) * 1000 / len(latencies), 2)
            for kind in kinds
        },
    )


def run_result(conversations: int, messages: int, full: PathFigures, bare: PathFigures) -> dict:
    """One N's figures, as they go into the JSON line."""
    ratio = full.msgs_per_s / bare.msgs_per_s if bare.msgs_per_s else math.nan
    return {
        "conversations": conversations,
        "messages_per_conversation": messages,
        "rounds_per_path": ROUNDS,
        "full_p50_ms": round(full.p50_ms, 1),
        "full_p95_ms": round(full.p95_ms, 1),
        "full_msgs_per_s": round(full.msgs_per_s, 2),
        "full_messages": full.messages,
        "full_errors": full.errors,
        "bare_p50_ms": round(bare.p50_ms, 1),
        "bare_p95_ms": round(bare.p95_ms, 1),
        "bare_msgs_per_s": round(bare.msgs_per_s, 2),
        "bare_messages": bare.messages,
        "bare_errors": bare.errors,
        "throughput_ratio": round(ratio, 3),
        "p50_overhead_ms": round(full.p50_ms - bare.p50_ms, 1),
        # CPU per answered message, by process kind (bot, rasa, actions; replicas summed):
        # what a message costs, whatever else the machine was doing meanwhile.
        "full_cpu_ms_per_msg": full.cpu_ms_per_msg,
        "bare_cpu_ms_per_msg": bare.cpu_ms_per_msg,
    }


def summary_line(runs: Sequence[dict], **context: object) -> str:
    """The last line: `{"runs": [one object per N], ...context}`. With a single N, that
    run's keys are at the top level too, so `--conversations 10` prints exactly the
    object issue 13 names."""
    summary: dict = dict(runs[0]) if len(runs) == 1 else {}
    summary.update(context)
    summary["runs"] = list(runs)
    return json.dumps(summary, ensure_ascii=False, allow_nan=False)


def table(result: dict, order: Sequence[str]) -> list[str]:
    """The human-readable lines for one N."""
    lines = [
        f"{result['conversations']} conversation(s) x {result['messages_per_conversation']} "
        f"messages, {ROUNDS} rounds per path, in the order {', '.join(order)}",
        f"  {'path':<5} {'messages':>8} {'errors':>6} {'p50 ms':>9} {'p95 ms':>9} {'msgs/s':>8}",
    ]
    for path in ("full", "bare"):
        lines.append(
            f"  {path:<5} {result[f'{path}_messages']:>8} {result[f'{path}_errors']:>6} "
            f"{result[f'{path}_p50_ms']:>9.1f} {result[f'{path}_p95_ms']:>9.1f} "
            f"{result[f'{path}_msgs_per_s']:>8.2f}"
        )
    lines.append(
        f"  full/bare throughput {result['throughput_ratio']:.3f}, "
        f"p50 overhead {result['p50_overhead_ms']:+.1f} ms"
    )
    for path in ("full", "bare"):
        if cpu := result[f"{path}_cpu_ms_per_msg"]:
            spent = ", ".join(f"{kind} {ms:.1f}" for kind, ms in cpu.items())
            lines.append(f"  {path} CPU ms per message: {spent}")
    return lines


def script(language: str, messages: int) -> list[str]:
    """A customer's M messages in one language, starting over after goodbye."""
    texts = TEXTS[language]
    return [texts[i % len(texts)] for i in range(messages)]


async def converse(
    session: ClientSession, target: Target, sender: str, language: str, messages: int
) -> tuple[list[float], int]:
    """One customer: each message waits for the answer to the one before. Latencies of
    the answered messages (HTTP 200) and how many were not."""
    latencies: list[float] = []
    errors = 0
    for text in script(language, messages):
        start = time.perf_counter()
        try:
            async with session.post(
                target.url_for(sender),
                json=target.body(sender, text, language),
                headers=target.headers,
            ) as response:
                await response.read()
                ok = response.status == 200
        except (ClientError, asyncio.TimeoutError):
            ok = False
        if ok:
            latencies.append(time.perf_counter() - start)
        else:
            errors += 1
    return latencies, errors


async def one_round(
    session: ClientSession,
    target: Target,
    conversations: int,
    messages: int,
    tag: str,
    languages: Sequence[str],
    shift: int = 0,
    clock: CpuClock | None = None,
) -> Round:
    """N customers at once, each a new sender; conversation i speaks languages[i + shift]."""
    cpu_before = clock() if clock else {}
    start = time.perf_counter()
    done = await asyncio.gather(
        *(
            converse(
                session,
                target,
                f"bench-{tag}-{target.name}-{i}",
                languages[(i + shift) % len(languages)],
                messages,
            )
            for i in range(conversations)
        )
    )
    seconds = time.perf_counter() - start
    cpu_after = clock() if clock else {}
    return Round(
        [latency for latencies, _ in done for latency in latencies],
        seconds,
        sum(errors for _, errors in done),
        {kind: used - cpu_before.get(kind, 0.0) for kind, used in cpu_after.items()},
    )


def round_order(index: int) -> list[str]:
    """ABBA (repeated), starting with the other path every second N."""
    first, second = ("full", "bare") if index % 2 == 0 else ("bare", "full")
    return ([first, second, second, first] * ROUNDS)[: 2 * ROUNDS]


async def compare(
    full: Target,
    bare: Target,
    conversations: Sequence[int],
    messages: int,
    languages: Sequence[str] = tuple(TEXTS),
    out: Callable[[str], None] = print,
    clock: CpuClock | None = None,
) -> list[dict]:
    """Warm both paths up, then for each N the rounds in `round_order`; one result per N
    (with `clock`, the CPU each kind of process spent per message on each path)."""
    run = secrets.token_hex(3)  # senders never met before, even on a stack used earlier
    targets = {"full": full, "bare": bare}
    connector = TCPConnector(limit=0)  # N conversations need N connections at once
    async with ClientSession(
        connector=connector, timeout=ClientTimeout(total=REQUEST_TIMEOUT)
    ) as session:
        # Every language once through each path: lazy loading, caches and the first
        # database writes are not what a message costs.
        for name in ("full", "bare"):
            warm = await one_round(
                session, targets[name], len(languages), 3, f"{run}-warm", languages
            )
            if warm.errors:
                raise BenchError(
                    f"{name}: {warm.errors} of {len(languages) * 3} warm-up messages "
                    f"were not answered ({targets[name].url})"
                )
        results = []
        for index, n in enumerate(conversations):
            order = round_order(index)
            rounds: dict[str, list[Round]] = {"full": [], "bare": []}
            for number, name in enumerate(order):
                # Both paths meet the same customers: round k of each uses shift k.
                shift = len(rounds[name])
                rounds[name].append(
                    await one_round(
                        session,
                        targets[name],
                        n,
                        messages,
                        f"{run}-{n}-{number}",
                        languages,
                        shift,
                        clock,
                    )
                )
            result = run_result(n, messages, figures(rounds["full"]), figures(rounds["bare"]))
            for line in table(result, order):
                out(line)
            results.append(result)
        return results


def parse_conversations(raw: str) -> list[int]:
    """`1,10,50` as [1, 10, 50]; BenchError on anything but positive whole numbers."""
    try:
        values = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise BenchError(
            f"--conversations: whole numbers separated by commas, not {raw!r}"
        ) from None
    if not values or any(value < 1 for value in values):
        raise BenchError(f"--conversations: at least one number, each 1 or more, not {raw!r}")
    return values


class StackLike(Protocol):
    """What the bench needs of scripts/stack.py's Stack (a fake in the tests)."""

    bot_urls: list[str]
    rasa_urls: list[str]
    secrets: dict[str, str]

    def start(self, timeout: float = ...) -> None: ...

    def stop(self, name: str | None = None) -> list[str]: ...


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU time a running process used, from /proc (Linux); 0 once gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            # After the command name in parentheses: utime and stime are fields 14 and 15.
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stack_clock(stack: object) -> CpuClock | None:
    """The CPU clock of a stack that started real processes (scripts/stack.py names them
    bot, rasa, actions and bot2, rasa2, ... for replicas); None for one that did not."""
    processes = getattr(stack, "processes", None)
    if not isinstance(processes, dict) or not os.path.exists("/proc/self/stat"):
        return None

    def clock() -> dict[str, float]:
        used: dict[str, float] = {}
        for name, process in processes.items():
            kind = name.rstrip("0123456789")
            used[kind] = used.get(kind, 0.0) + process_cpu_seconds(process.pid)
        return used

    return clock


def free_ports(count: int, *, width: int = 1) -> list[int]:
    """`count` ports nothing is bound to now, each with the `width - 1` ports above it free
    too (a scaled stack's second replica listens one above), no two blocks overlapping.

    They come from below the kernel's ephemeral range: a port from there (what bind(0) and
    every outgoing connection get) can go to another program, or to one of the stack's
    own connections, in the half minute before the last process binds it."""
    ceiling = min(_ephemeral_ports_start(), 65536)
    floor = 10000 if ceiling > 12000 else 1024
    chooser = random.Random()
    found: list[int] = []
    for _ in range(10000):
        port = chooser.randrange(floor, ceiling - width)
        block = range(port, port + width)
        if any(abs(port - other) < width for other in found):
            continue
        if all(_bindable(each) for each in block):
            found.append(port)
            if len(found) == count:
                return found
    raise BenchError(f"no {count} free port(s) found between {floor} and {ceiling}")


def _ephemeral_ports_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default; other systems start higher


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def bench_environment() -> dict[str, str]:
    """The stack's environment on top of ours: nothing beyond loopback (no translator, no
    Telegram, the demo shop), a database of its own, and limits that one client on
    127.0.0.1 starting hundreds of conversations never reaches (they stay on: their cost
    is in the figures)."""
    high = "1000000/10s"
    return {
        "TOLK_HOST": "127.0.0.1",
        "TOLK_API_TOKEN": "",
        "TOLK_TRANSLATOR": "none",
        "TELEGRAM_TOKEN": "",
        "TELEGRAM_WEBHOOK_URL": "",
        "TELEGRAM_SECRET_TOKEN": "",
        "TOLK_SHOP_URL": "",
        "TOLK_RATE_PER_SENDER": high,
        "TOLK_RATE_PER_ADDRESS": high,
        "TOLK_RATE_READS_PER_ADDRESS": high,
        "TOLK_RATE_NEW_CONVERSATIONS": high,
    }


def make_stack(workdir: Path) -> StackLike:
    from scripts.stack import Ports, Stack

    bot, rasa, actions = free_ports(3)
    env = {**bench_environment(), "TOLK_DATABASE_URL": f"sqlite:///{workdir / 'tolk.db'}"}
    return Stack(Ports(rasa=rasa, actions=actions, bot=bot), workdir, env=env)


def make_scaled_stack(workdir: Path) -> StackLike:
    """Two of each (scripts/stack.py --scaled) on the PostgreSQL database and Redis named
    by TOLK_DATABASE_URL and TOLK_REDIS_URL (`make services` starts both)."""
    from scripts.stack import Ports, Stack

    database = os.environ.get("TOLK_DATABASE_URL", "")
    redis = os.environ.get("TOLK_REDIS_URL", "")
    if not database.startswith("postgresql") or not redis:
        raise BenchError(
            "--scaled needs TOLK_DATABASE_URL=postgresql://... and TOLK_REDIS_URL=redis://... "
            "(make services: postgresql://tolk:tolk@127.0.0.1:15433/tolk, "
            "redis://127.0.0.1:16380/0)"
        )
    bot, rasa, actions = free_ports(3, width=2)
    env = {**bench_environment(), "TOLK_DATABASE_URL": database, "TOLK_TRACKER_URL": database,
           "TOLK_REDIS_URL": redis}  # fmt: skip
    return Stack(Ports(rasa=rasa, actions=actions, bot=bot), workdir, env=env, replicas=2)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM takes the same way out as Ctrl-C, to the `finally` that stops the stack: in
    # asyncio.run, its SIGINT handler cancels the run cleanly, then raises KeyboardInterrupt.
    on_ctrl_c = signal.getsignal(signal.SIGINT)
    if not callable(on_ctrl_c):
        raise KeyboardInterrupt
    on_ctrl_c(signal.SIGINT, frame)


def run_full(
    languages: Sequence[str],
    conversations: str | None = None,
    messages: int | None = None,
    stack_factory: Callable[[Path], StackLike] = make_stack,
    out: Callable[[str], None] = print,
) -> int:
    """Start the stack, compare, print, stop the stack whatever happens; the exit status
    (1 when a message went unanswered, 130 when interrupted)."""
    from scripts.stack import MODEL, StackError
    from tolk_core import internal_secrets

    try:
        counts = (
            list(DEFAULT_CONVERSATIONS)
            if conversations is None
            else parse_conversations(conversations)
        )
        messages = DEFAULT_MESSAGES if messages is None else messages
        if messages < 1:
            raise BenchError("--messages: 1 or more")
        usable = [code for code in languages if code in TEXTS]
        if not usable:
            raise BenchError(f"no customer texts for the languages {', '.join(languages)}")
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    if stack_factory in (make_stack, make_scaled_stack) and not MODEL.exists():
        print(f"bench: {MODEL} is missing: run `make train` first", file=sys.stderr)
        return 1
    previous = signal.signal(signal.SIGTERM, _interrupt)
    load_before = os.getloadavg()
    try:
        with tempfile.TemporaryDirectory(prefix="tolk-bench-") as tmp:
            stack = stack_factory(Path(tmp))
            try:
                out("Tolk full-stack benchmark: starting the action server, Rasa and the bot...")
                started = time.perf_counter()
                try:
                    stack.start(timeout=STACK_TIMEOUT)
                except (StackError, internal_secrets.SecretError, OSError) as error:
                    print(f"bench: the stack did not start: {error}", file=sys.stderr)
                    return 1
                bot_urls, rasa_urls = stack.bot_urls, stack.rasa_urls
                out(
                    f"up in {time.perf_counter() - started:.0f} s (gateway "
                    f"{', '.join(bot_urls)}, Rasa {', '.join(rasa_urls)}); languages "
                    f"{', '.join(usable)}; {os.cpu_count()} CPUs, load {_load(load_before)}"
                )
                secret = stack.secrets[internal_secrets.RASA_SECRET]
                results = asyncio.run(
                    compare(
                        gateway_target(*bot_urls),
                        rasa_target(rasa_urls[0], secret, *rasa_urls[1:]),
                        counts,
                        messages,
                        usable,
                        out,
                        stack_clock(stack),
                    )
                )
            finally:
                stack.stop()
    except KeyboardInterrupt:
        print("bench: interrupted; the stack is stopped", file=sys.stderr)
        return 130
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    out(
        summary_line(
            results,
            bench="full",
            profile="scaled" if stack_factory is make_scaled_stack else "default",
            languages=list(usable),
            cpus=os.cpu_count(),
            load_before=_load(load_before),
            load_after=_load(os.getloadavg()),
        )
    )
    return 1 if any(r["full_errors"] or r["bare_errors"] for r in results) else 0


def _load(load: tuple[float, float, float]) -> list[float]:
    return [round(value, 2) for value in load]

"""schemathesis against docs/openapi.yaml: the running service answers as documented.

schemathesis generates requests from the document (examples, boundaries, then random
data, then call sequences) and checks every answer: no 5xx, a documented status and
content type, a body of the documented shape, under a second. A bounded run, on loopback,
against the same live service as the hypothesis fuzzing. More examples:
TOLK_SCHEMATHESIS_EXAMPLES=100 pytest tests/fuzz/test_openapi.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPORTS
from tests.fuzz.conftest import TELEGRAM_SECRET
from tests.fuzz.contract import OPENAPI, encoded
from tests.gateway_fixtures import ADMIN_TOKEN, NLG_SECRET

CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = os.environ.get("TOLK_SCHEMATHESIS_EXAMPLES", "5")
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


def test_the_service_answers_as_docs_openapi_yaml_says(live, client):
    opened = client.call(
        "POST", "/api/v1/messages", body=encoded({"sender": "schemathesis", "text": "/human"})
    )
    assert opened.status == 200 and opened.json["handoff"], opened.json
    ticket = str(opened.json["handoff"]["ticket"])
    run = _schemathesis(live, ticket)
    if run.returncode != 0 and _only_slow(run.stdout):
        # One answer over a second and nothing else wrong: on a shared two-core CI machine
        # that is as likely a stall of the machine (seen once: a 20 ms reload took 3.9 s)
        # as a slow path. The run is deterministic, so a slow path is slow again: run once
        # more and fail only then.
        REPORTS.append(f"schemathesis: first run over the time limit, run again: {_slow(run)}")
        run = _schemathesis(live, ticket)
    summary = [line.strip() for line in run.stdout.splitlines() if "generated," in line]
    REPORTS.append(f"schemathesis ({EXAMPLES} examples per operation): {' '.join(summary)}")
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


def _schemathesis(live, ticket: str) -> subprocess.CompletedProcess[str]:
    schemathesis = Path(sys.executable).with_name("schemathesis")
    return subprocess.run(
        [
            str(schemathesis),
            "--config-file",
            str(CONFIG),
            "run",
            str(OPENAPI),
            "--url",
            live.url,
            "--checks",
            CHECKS,
            "--max-examples",
            EXAMPLES,
            "--max-response-time",
            "1",
            "--request-timeout",
            "5",
            "--seed",
            "10",
            "--generation-deterministic",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "FUZZ_NLG_SECRET": NLG_SECRET,
            "FUZZ_ADMIN_TOKEN": ADMIN_TOKEN,
            "FUZZ_TELEGRAM_SECRET": TELEGRAM_SECRET,
            "FUZZ_AGENT_TOKEN": live.agent_token,
            "FUZZ_TICKET": ticket,
        },
    )


def _failures(stdout: str) -> list[str]:
    """The kinds of failure in the closing summary ("❌ ST112 Response time limit exceeded: 1")."""
    lines = stdout.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Failures:")
    except StopIteration:
        return []
    found = []
    for line in lines[start + 1 :]:
        if not line.strip().startswith("❌"):
            break
        found.append(line.strip())
    return found


def _only_slow(stdout: str) -> bool:
    failures = _failures(stdout)
    return bool(failures) and all("ST112" in failure for failure in failures)


def _slow(run: subprocess.CompletedProcess[str]) -> str:
    lines = run.stdout.splitlines()
    operations = [line.strip("_ ") for line in lines if line.startswith("___") and "/" in line]
    actual = [line.strip() for line in lines if line.strip().startswith("Actual:")]
    return ", ".join(f"{op} ({time})" for op, time in zip(operations, actual, strict=False))

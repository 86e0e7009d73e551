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
    schemathesis = Path(sys.executable).with_name("schemathesis")
    run = subprocess.run(
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
            "FUZZ_TICKET": str(opened.json["handoff"]["ticket"]),
        },
    )
    summary = [line.strip() for line in run.stdout.splitlines() if "generated," in line]
    REPORTS.append(f"schemathesis ({EXAMPLES} examples per operation): {' '.join(summary)}")
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]

"""Privacy through the three real processes: what reaches the translator and the logs, and
what erasing leaves (nothing of the customer; the other customer untouched)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.e2e.conftest import post
from tests.texts import said

pytestmark = pytest.mark.e2e

NAME, SURNAME, EMAIL = "Quintessa", "Vandermolen", "quintessa.v@example.org"


def tracker_events(stack, sender: str) -> int:
    with sqlite3.connect(stack.workdir / "rasa-tracker.db") as connection:
        return connection.execute(
            "SELECT count(*) FROM events WHERE sender_id = ?", (sender,)
        ).fetchone()[0]


def stored(stack, sender: str) -> int:
    try:
        with urllib.request.urlopen(
            f"{stack.bot_url}/api/v1/conversations/{sender}/messages", timeout=30
        ) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_names_stay_out_of_translator_and_logs_and_erase_leaves_nothing(stack, translator):
    customer, other = "e2e-private", "e2e-private-other"
    full_name = f"{NAME} {SURNAME}"
    post(stack.bot_url, {"sender": other, "text": "Hello! I have a question"})
    first = post(
        stack.bot_url,
        {"sender": customer, "text": f"Hola, soy {full_name}", "language": "es", "name": full_name},
    )
    assert "/delete_my_data" in first["messages"][0]["text"], "the privacy notice"
    post(stack.bot_url, {"sender": customer, "text": f"Mi correo es {EMAIL}, gracias {NAME}"})
    # An order check that fails (the action server, the demo shop).
    post(stack.bot_url, {"sender": customer, "text": "¿Dónde está mi pedido 10001?"})
    post(stack.bot_url, {"sender": customer, "text": EMAIL})

    reached = " ".join(translator.received)
    assert translator.received and NAME not in reached and SURNAME not in reached
    assert EMAIL not in reached
    assert tracker_events(stack, f"rest-{customer}") > 0

    done = post(stack.bot_url, {"sender": customer, "text": "/delete_my_data confirm"})
    # Spanish is served through the pivot: the catalogue's English, machine-translated.
    assert done["messages"][0]["text"].startswith("[es] " + said("utter_deleted", "en"))
    assert stored(stack, customer) == 404
    assert tracker_events(stack, f"rest-{customer}") == 0
    assert stored(stack, other) == 200 and tracker_events(stack, f"rest-{other}") > 0

    time.sleep(1)  # the launcher writes the processes' output as it comes
    for log in ("bot.log", "rasa.log", "actions.log"):
        text = (stack.workdir / log).read_text(encoding="utf-8", errors="replace")
        for personal in (NAME, SURNAME, EMAIL):
            assert personal not in text, f"{personal} in {log}"


def test_the_erase_command_lists_what_it_removed_per_table(stack):
    sender = "e2e-erase-command"
    post(stack.bot_url, {"sender": sender, "text": "Hello! I have a question"})
    result = subprocess.run(
        [sys.executable, "-m", "bot", "erase", "--sender", f"rest-{sender}"],
        env={
            **os.environ,
            "TOLK_DATABASE_URL": f"sqlite:///{stack.workdir / 'tolk.db'}",
            "TOLK_TRACKER_URL": f"sqlite:///{stack.workdir / 'rasa-tracker.db'}",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == f"erased 'rest-{sender}', rows per table:"
    table = dict(line.split() for line in lines[1:])
    assert table["conversations"] == "1" and int(table["messages"]) >= 2
    assert int(table["tracker_events"]) > 0
    assert stored(stack, sender) == 404

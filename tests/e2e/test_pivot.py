"""Spanish and German customers through the real stack and the English pivot.

The translator is a LibreTranslate-compatible server on loopback (tests never call a
public translator); the bot talks to it with deep-translator's real LibreTranslate client.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.e2e.conftest import answer, post

pytestmark = pytest.mark.e2e

CONVERSATIONS = {
    "es": ("Hola", "¿Cuánto tarda el envío?", "¿Eres un bot?"),
    "de": ("Hallo", "Wie lange dauert der Versand?", "Bist du ein Bot?"),
}


@pytest.mark.parametrize("language", sorted(CONVERSATIONS))
def test_a_conversation_through_the_pivot_is_answered_in_the_customers_language(
    stack, translator, language
):
    greeting, faq, challenge = CONVERSATIONS[language]
    sender = f"e2e-pivot-{language}"
    marker = f"[{language}] "
    note = marker + answer("utter_machine_translation_note", "en")

    first = post(stack.bot_url, {"sender": sender, "text": greeting, "language": language})
    assert first["language"] == language
    disclosure, greet = (m["text"] for m in first["messages"])
    assert disclosure.startswith(marker + answer("utter_disclosure", "en"))
    assert greet == f"{marker}{answer('utter_greet', 'en')}\n{note}"

    second = post(stack.bot_url, {"sender": sender, "text": faq})
    assert second["language"] == language
    assert second["messages"][0]["text"].startswith(
        marker + answer("utter_faq/shipping_time", "en")
    )
    third = post(stack.bot_url, {"sender": sender, "text": challenge})
    assert third["messages"][0]["text"].startswith(marker + answer("utter_iamabot", "en"))

    with urllib.request.urlopen(
        f"{stack.bot_url}/api/v1/conversations/{sender}/messages", timeout=10
    ) as response:
        transcript = json.loads(response.read())["messages"]
    customer = [m["text"] for m in transcript if m["from"] == "customer"]
    assert customer == [greeting, faq, challenge]
    assert "support@example.com" not in " ".join(translator.received)

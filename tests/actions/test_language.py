"""action_change_language with a CollectingDispatcher and trackers built per test."""

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.language import ActionChangeLanguage


def tracker_for(text: str, language: str) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": "change_language"},
        "metadata": {"language": language},
    }
    return Tracker("t", {}, latest, [], False, None, {}, "action_listen")


async def run(text: str, language: str) -> list[dict]:
    dispatcher = CollectingDispatcher()
    await ActionChangeLanguage().run(dispatcher, tracker_for(text, language), {})
    return dispatcher.messages


async def test_a_named_language_is_passed_to_the_gateway():
    assert [m["custom"] for m in await run("can we speak Dutch?", "en")] == [{"set_language": "nl"}]
    assert [m["custom"] for m in await run("אפשר לדבר באנגלית?", "he")] == [{"set_language": "en"}]


async def test_the_current_language_is_skipped_when_two_are_named():
    messages = await run("can we speak dutch instead of english", "en")
    assert messages[0]["custom"] == {"set_language": "nl"}


async def test_no_language_named_lists_the_languages():
    messages = await run("do you speak other languages?", "en")
    assert [m["response"] for m in messages] == ["utter_change_language"]

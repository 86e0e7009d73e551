"""An unsure first message is answered in the likeliest language, the others offered as
buttons in their own names (issue 11); a button switches the conversation."""

from tests.texts import said


async def post(client, **body):
    response = await client.post("/api/v1/messages", json=body)
    assert response.status == 200
    return await response.json()


async def test_an_unsure_first_message_offers_the_other_languages(client, fake_rasa):
    fake_rasa.replies = [{"text": "Hoi! Waarmee kan ik helpen?"}]
    body = await post(client, sender="unsure", text="hoi")
    assert body["language"] == "nl"
    texts = [m["text"] for m in body["messages"]]
    # After the disclosure, before the answer: the answer stays the last word.
    assert texts[-1] == "Hoi! Waarmee kan ik helpen?"
    offer = body["messages"][-2]
    assert offer["text"] == said("utter_offer_languages", "nl")
    titles = {button["title"]: button["payload"] for button in offer["buttons"]}
    assert titles == {
        "English": "/language en",
        "עברית": "/language he",
        "فارسی": "/language fa",
        "Tiếng Việt": "/language vi",
    }
    switched = await post(client, sender="unsure", text=titles["فارسی"])
    assert switched["language"] == "fa"
    # Once the conversation has a language, nothing more is offered.
    fake_rasa.replies = [{"text": "an answer"}]
    later = await post(client, sender="unsure", text="hoi")
    assert all("buttons" not in m for m in later["messages"])


async def test_a_first_message_with_a_telling_hint_offers_nothing(client, fake_rasa):
    fake_rasa.replies = [{"text": "Hoi!"}]
    body = await post(client, sender="hinted", text="hoi", language="nl")
    assert body["language"] == "nl"
    assert all(m["text"] != said("utter_offer_languages", "nl") for m in body["messages"])


async def test_a_sure_first_message_offers_nothing(client, fake_rasa):
    fake_rasa.replies = [{"text": "Let me check."}]
    body = await post(client, sender="sure", text="Where is my order 10002? It was due Monday")
    assert body["language"] == "en"
    assert all(m["text"] != said("utter_offer_languages", "en") for m in body["messages"])

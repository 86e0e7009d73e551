"""The account forms' validation and actions with a CollectingDispatcher, trackers built
per test and the seeded demo shop on a temporary database."""

from __future__ import annotations

import time

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import account, forms
from actions.database import create_engine, create_schema
from actions.services import Services, use
from actions.shop import SqlShop, seed_demo
from actions.shop.verification import Verifier

DOMAIN = {
    "forms": {
        "track_order_form": {"required_slots": ["order_number", "email", "new_address"]},
        "cancel_order_form": {"required_slots": ["order_number", "email", "confirmed"]},
        "recover_password_form": {"required_slots": ["email"]},
        "continue_by_email_form": {"required_slots": ["email"]},  # tests/actions/test_email.py
    }
}


@pytest.fixture
async def shop(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    await create_schema(engine)
    await seed_demo(engine)
    shop = SqlShop(engine)
    use(Services(shop, Verifier(engine, shop)))
    yield shop
    use(None)
    await engine.dispose()


def tracker(
    text: str,
    intent: str = "track_order",
    sender: str = "customer-1",
    confidence: float = 0.9,
    **slots,
) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence}}
    return Tracker(
        sender_id=sender,
        slots={"requested_slot": None, **slots},
        latest_message=latest,
        events=[{"event": "user", "text": text, "parse_data": latest}],
        paused=False,
        followup_action=None,
        active_loop={"name": "track_order_form"},
        latest_action_name="action_listen",
    )


def checked(number: str, email: str, **slots) -> dict:
    """Slots of an order whose owner was verified a moment ago, in this session."""
    return {
        "order_number": number,
        "verified_order": number,
        "verified_at": time.time() - 5,
        "email": email,
        **slots,
    }


async def validate(form: str, tracker: Tracker) -> tuple[list[dict], dict]:
    """(messages, slots set) after the form's validation action ran on `tracker`."""
    action = next(cls for cls in vars(forms).values() if getattr(cls, "form", None) == form)()
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, DOMAIN)
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def run(action_class, tracker: Tracker) -> tuple[list[dict], dict]:
    dispatcher = CollectingDispatcher()
    events = await action_class().run(dispatcher, tracker, {})
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("where is my order 10001?", "10001"),
        ("سفارش ۱۰۰۰۱ من کجاست؟", "10001"),  # Persian digits
        ("وين طلبي ١٠٠٠١", "10001"),  # Arabic-Indic digits
        ("bestelling 10 001 graag", "10001"),  # grouped
        ("ההזמנה שלי #10001", "10001"),
        ("đơn 10.001 của mình đâu rồi", "10001"),
    ],
)
async def test_the_order_number_is_read_from_the_first_message(shop, text, number):
    messages, slots = await validate("track_order_form", tracker(text))
    assert slots["order_number"] == number and messages == []


@pytest.mark.parametrize(
    "text",
    [
        "alex@example.com",
        "המייל שלי הוא \u200falex@example.com\u200f, תודה",
        "ایمیلم alex@example.com است",
        "email của mình: Alex@Example.com.",
    ],
)
async def test_a_verified_customer_is_greeted_by_name(shop, text):
    messages, slots = await validate(
        "track_order_form",
        tracker(text, intent="inform", requested_slot="email", order_number="10001"),
    )
    assert slots["verified_order"] == "10001" and slots["customer_name"] == "Alex"
    assert messages[0]["response"] == "utter_verified"
    assert messages[0]["name"] == "Alex"


async def test_wrong_email_unknown_order_and_someone_elses_order_look_the_same(shop):
    attempts = [
        ("10001", "nobody@example.com"),  # wrong address
        ("99999", "alex@example.com"),  # no such order
        ("10002", "alex@example.com"),  # Sam's order, Alex's address
    ]
    seen = []
    for number, email in attempts:
        messages, slots = await validate(
            "track_order_form",
            tracker(
                email,
                intent="inform",
                requested_slot="email",
                order_number=number,
                sender=f"s-{number}",
            ),
        )
        seen.append((messages, slots))
    assert all(outcome == seen[0] for outcome in seen)
    messages, slots = seen[0]
    assert [m["response"] for m in messages] == ["utter_not_verified"]
    assert slots == {"order_number": None, "email": None}
    assert "verified_order" not in slots


async def test_five_failures_lock_the_sender_and_the_order(shop):
    def wrong(sender: str, number: str = "10001") -> Tracker:
        return tracker(
            "x@example.com",
            intent="inform",
            requested_slot="email",
            order_number=number,
            sender=sender,
        )

    for _ in range(4):
        messages, _ = await validate("track_order_form", wrong("guesser"))
        assert messages[0]["response"] == "utter_not_verified"
    messages, slots = await validate("track_order_form", wrong("guesser"))
    assert messages[0]["response"] == "utter_verification_locked"
    assert slots["form_stopped"] is True
    # Locked per sender: even the right pair is not checked now.
    right = tracker(
        "sam@example.com",
        intent="inform",
        requested_slot="email",
        order_number="10002",
        sender="guesser",
    )
    messages, _ = await validate("track_order_form", right)
    assert messages[0]["response"] == "utter_verification_locked"
    # Locked per order: another sender cannot go on guessing 10001 either.
    messages, _ = await validate("track_order_form", wrong("someone-else"))
    assert messages[0]["response"] == "utter_verification_locked"


async def test_a_question_during_the_form_is_left_to_the_rules(shop):
    messages, slots = await validate(
        "track_order_form",
        tracker("how long does shipping take?", intent="faq", requested_slot="order_number"),
    )
    assert messages == [] and slots == {}


async def test_a_shipped_order_shows_carrier_tracking_and_date(shop):
    messages, _ = await run(
        account.ActionTrackOrder,
        tracker("", **checked("10001", "alex@example.com")),
    )
    [message] = messages
    assert message["response"] == "utter_order_status_shipped"
    assert message["carrier"] == "PostNL" and message["tracking_number"] == "3SDEMO10001NL"


async def test_nothing_is_shown_for_an_unverified_order(shop):
    messages, _ = await run(account.ActionTrackOrder, tracker("", order_number="10001"))
    assert messages == []


async def test_cancelling_needs_a_yes_and_an_unshipped_order(shop):
    verified = checked("10002", "sam@example.com")
    messages, _ = await run(account.ActionCancelOrder, tracker("", confirmed=False, **verified))
    assert messages[0]["response"] == "utter_order_kept"
    messages, slots = await run(account.ActionCancelOrder, tracker("", confirmed=True, **verified))
    assert messages[0]["response"] == "utter_order_cancelled"
    assert slots["confirmed"] is None, "the answer is not kept for the next form"
    assert (await shop.order("10002")).status == "cancelled"
    shipped = checked("10001", "alex@example.com")
    messages, _ = await run(account.ActionCancelOrder, tracker("", confirmed=True, **shipped))
    assert messages[0]["response"] == "utter_cannot_cancel_shipped"


async def test_refunds_inside_and_outside_the_return_window(shop):
    def order(number: str) -> dict:
        return checked(number, "alex@example.com")

    messages, _ = await run(
        account.ActionRequestRefund, tracker("", refund_reason="too small", **order("10003"))
    )
    assert messages[0]["response"] == "utter_refund_requested"
    assert messages[0]["amount"] == "€34.95"
    messages, _ = await run(account.ActionRequestRefund, tracker("", **order("10004")))
    assert messages[0]["response"] == "utter_refund_window_closed"
    sam = checked("10005", "sam@example.com")
    messages, _ = await run(account.ActionTrackRefund, tracker("", **sam))
    assert messages[0]["response"] == "utter_refund_status_approved"


async def test_password_reset_never_reveals_whether_an_account_exists(shop):
    known, _ = await run(account.ActionRecoverPassword, tracker("", email="alex@example.com"))
    unknown, _ = await run(account.ActionRecoverPassword, tracker("", email="no@example.com"))
    assert [m["response"] for m in known] == [m["response"] for m in unknown]
    assert len(await shop.outbox("alex@example.com")) == 1
    assert await shop.outbox("no@example.com") == []


async def test_a_new_email_is_confirmed_to_both_addresses(shop):
    slots = checked("10002", "sam@example.com", new_email="sam.rivera@example.org", confirmed=True)
    messages, changed = await run(account.ActionUpdateEmail, tracker("", **slots))
    assert messages[0]["response"] == "utter_email_updated"
    assert changed["email"] == "sam.rivera@example.org"
    assert await shop.outbox("sam@example.com") and await shop.outbox("sam.rivera@example.org")


async def test_deleting_the_account_asks_the_bot_to_erase_the_conversation(shop):
    slots = checked("10002", "sam@example.com", confirmed=True)
    messages, _ = await run(account.ActionDeleteAccount, tracker("", **slots))
    assert [m.get("response") or m.get("custom") for m in messages] == [
        "utter_account_deleted",
        {"erase": True},
    ]
    assert await shop.customer("sam@example.com") is None


async def test_an_address_is_taken_even_when_the_nlu_reads_it_as_out_of_scope(shop):
    text = "Damrak 1, 1012 LG Amsterdam, Nederland"
    messages, slots = await validate(
        "track_order_form",
        tracker(text, intent="out_of_scope", confidence=0.78, requested_slot="new_address"),
    )
    assert slots == {"new_address": text} and messages == []


def later_session(text: str, intent: str, verified_at: float | None, **slots) -> Tracker:
    """A tracker whose current session began a minute ago, with the slots an earlier
    session left behind (Rasa carried them over before, or an older tracker)."""
    now = time.time()
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.95}}
    if verified_at is not None:
        slots["verified_at"] = verified_at
    return Tracker(
        sender_id="rest-someone",
        slots={"requested_slot": None, **slots},
        latest_message=latest,
        events=[
            {"event": "slot", "name": "verified_order", "timestamp": now - 4000},
            {"event": "session_started", "timestamp": now - 60},
            {"event": "user", "text": text, "parse_data": latest, "timestamp": now},
        ],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.mark.parametrize(
    "verified_at", [None, time.time() - 4000], ids=["no timestamp", "earlier session"]
)
async def test_a_stranger_with_an_earlier_sessions_slots_cannot_cancel(shop, verified_at):
    earlier = {
        "order_number": "10002",
        "verified_order": "10002",
        "email": "sam@example.com",
        "customer_name": "Sam",
        "confirmed": True,
    }
    stranger = later_session("/affirm", "affirm", verified_at, **earlier)
    for action in (account.ActionCancelOrder, account.ActionTrackOrder, account.ActionUpdateEmail):
        messages, _ = await run(action, stranger)
        assert messages == [], action
    assert (await shop.order("10002")).status == "processing"


async def test_a_verification_counts_for_30_minutes_only(shop):
    fresh = checked("10002", "sam@example.com", confirmed=True)
    stale = {**fresh, "verified_at": time.time() - 31 * 60}
    messages, _ = await run(account.ActionCancelOrder, tracker("", **stale))
    assert messages == []
    assert (await shop.order("10002")).status == "processing"
    messages, _ = await run(account.ActionCancelOrder, tracker("", **fresh))
    assert messages[0]["response"] == "utter_order_cancelled"


async def test_an_expired_verification_is_asked_for_again(shop):
    """The form forgets the old check and the e-mail that went with it: the customer
    types the e-mail again and is checked anew."""
    stale = {
        "order_number": "10001",
        "verified_order": "10001",
        "verified_at": time.time() - 3600,
        "email": "alex@example.com",
        "customer_name": "Alex",
    }
    messages, slots = await validate(
        "track_order_form", tracker("where is it?", intent="track_order", **stale)
    )
    assert messages == []
    assert slots["verified_order"] is None and slots["email"] is None
    assert slots["customer_name"] is None
    again = {**stale, **slots, "requested_slot": "email"}
    messages, slots = await validate(
        "track_order_form", tracker("alex@example.com", intent="inform", **again)
    )
    assert messages[0]["response"] == "utter_verified"
    assert slots["verified_order"] == "10001"
    assert time.time() - slots["verified_at"] < 5


async def test_a_new_sessions_form_asks_for_the_email_even_with_old_slots(shop):
    old = {"order_number": "10001", "verified_order": "10001", "email": "alex@example.com"}
    stranger = later_session("where is order 10001?", "track_order", time.time() - 4000, **old)
    messages, slots = await validate("track_order_form", stranger)
    assert all(m["response"] != "utter_verified" for m in messages)
    assert slots["email"] is None and slots["verified_order"] is None

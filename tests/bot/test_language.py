import pytest

from bot.language import LanguageChooser
from bot.settings import NATIVE_LANGUAGES
from tolk_core.language_names import PIVOT_CANDIDATES


@pytest.fixture(scope="module")
def chooser() -> LanguageChooser:
    return LanguageChooser(NATIVE_LANGUAGES + PIVOT_CANDIDATES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Where is my order? I ordered last week", "en"),
        ("waar is mijn bestelling, ik heb vorige week besteld", "nl"),
        ("איפה ההזמנה שלי?", "he"),
        ("سفارشم کجاست؟", "fa"),
        ("Đơn hàng của tôi đang ở đâu vậy?", "vi"),
        ("don hang cua toi dau roi shop oi", "vi"),
    ],
)
def test_first_message_language_is_detected(chooser, text, expected):
    assert chooser.choose(text, current=None) == expected


@pytest.mark.parametrize("text", ["ok", "bedankt!", "👍", "thanks", "Ok!!", "10001", "no"])
def test_short_replies_keep_a_dutch_conversation_dutch(chooser, text):
    assert chooser.choose(text, current="nl") == "nl"


@pytest.mark.parametrize("text", ["ok", "thanks", "👍", "paypal"])
def test_latin_short_text_never_switches_a_persian_conversation(chooser, text):
    assert chooser.choose(text, current="fa") == "fa"


def test_clearly_other_language_switches(chooser):
    assert chooser.choose("I would like to cancel my order please", current="nl") == "en"
    assert chooser.choose("ik wil graag mijn bestelling annuleren", current="en") == "nl"


def test_a_unique_script_switches_even_when_short(chooser):
    assert chooser.choose("سلام", current="nl") == "fa"
    assert chooser.choose("שלום", current="en") == "he"


def test_channel_hint_is_the_prior_for_ambiguous_first_messages(chooser):
    assert chooser.choose("hallo", current=None, hint="nl") == "nl"
    assert chooser.choose("hi", current=None, hint="vi") == "vi"
    assert chooser.choose("👍", current=None, hint="he") == "he"


def test_a_clear_first_message_beats_the_hint(chooser):
    assert chooser.choose("ik wil mijn bestelling annuleren", current=None, hint="en") == "nl"


def test_without_hint_an_ambiguous_first_message_is_english(chooser):
    assert chooser.choose("ok", current=None) == "en"


def test_vietnamese_name_in_a_dutch_sentence_does_not_switch(chooser):
    text = "mijn naam is Nguyễn Văn Đức en ik wacht nog steeds op mijn pakket"
    assert chooser.choose(text, current="nl") == "nl"


@pytest.mark.parametrize(
    "text",
    [
        "<script>window.pwned = 1</script><b>bold?</b>",
        "https://shop.example.com/orders/10001 help",
        "my email is alex@example.com",
    ],
)
def test_addresses_markup_and_code_do_not_switch_the_language(chooser, text):
    assert chooser.choose(text, current="fa") == "fa"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("¿Cuánto tarda el envío de mi pedido?", "es"),
        ("Wie lange dauert der Versand?", "de"),
        ("مرحبا، أين طلبي؟", "ar"),
        ("Merhaba, siparişim nerede?", "tr"),
        ("Где мой заказ?", "ru"),
        ("我的订单在哪里", "zh"),
    ],
)
def test_languages_outside_the_native_ones_are_recognised(chooser, text, expected):
    assert chooser.choose(text, current=None) == expected


def test_persian_letters_tell_persian_from_arabic(chooser):
    assert chooser.choose("سلام، سفارشم کجاست؟", current="ar") == "fa"
    assert chooser.choose("سلام", current=None) == "fa"

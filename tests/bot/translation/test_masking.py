"""What the translator and the logs see of a customer's message."""

from __future__ import annotations

import re
import time
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.translation.masking import Masker

MASKER = Masker(glossary=["Tolk", "Tolk Pay"])
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

# (sentence, value, kind, profile names), per language.
PII = [
    # English
    ("Please send the invoice to alex@example.com today.", "alex@example.com", "email", ()),
    (
        "Status: https://status.example.com/incidents?id=7.",
        "https://status.example.com/incidents?id=7",
        "url",
        (),
    ),
    ("Go to www.example.org for the manual.", "www.example.org", "url", ()),
    ("Call me on +1 (555) 123-4567 after five.", "+1 (555) 123-4567", "phone", ()),
    ("My card 4111 1111 1111 1111 was charged twice.", "4111 1111 1111 1111", "card", ()),
    ("Refund to GB82 WEST 1234 5698 7654 32 please.", "GB82 WEST 1234 5698 7654 32", "iban", ()),
    ("Where is order #10001?", "#10001", "order", ()),
    ("Hi, this is Sara Ahmadi.", "Sara Ahmadi", "name", ("Sara Ahmadi",)),
    # Dutch
    ("Mijn e-mailadres is sara.ahmadi@voorbeeld.nl.", "sara.ahmadi@voorbeeld.nl", "email", ()),
    ("Het staat op shop.example.com/orders/1, toch?", "shop.example.com/orders/1", "url", ()),
    ("Bel me op 06-12345678 of mail.", "06-12345678", "phone", ()),
    ("Mijn pas 5200-0000-0000-0007 werkt niet.", "5200-0000-0000-0007", "card", ()),
    ("Mijn IBAN is NL91 ABNA 0417 1643 00, klopt dat?", "NL91 ABNA 0417 1643 00", "iban", ()),
    ("Bestelnummer 10 001 is nog niet bezorgd.", "10 001", "order", ()),
    ("Met vriendelijke groet, sara", "sara", "name", ("Sara Ahmadi",)),
    # Hebrew
    ("המייל alex@example.com שלי", "alex@example.com", "email", ()),
    ("האתר www.example.co.il לא עובד", "www.example.co.il", "url", ()),
    ("הטלפון שלי 050-123-4567", "050-123-4567", "phone", ()),
    ("כרטיס 4111-1111-1111-1111 חויב פעמיים", "4111-1111-1111-1111", "card", ()),
    ("החשבון שלי IL62 0108 0000 0009 9999 999", "IL62 0108 0000 0009 9999 999", "iban", ()),
    ("איפה ההזמנה 123456 שלי?", "123456", "order", ()),
    ("שלום, כאן שרה כהן", "שרה כהן", "name", ("שרה כהן",)),
    # Persian, with Persian digits
    ("ایمیلم:alex@example.com", "alex@example.com", "email", ()),
    ("سایت https://example.ir/سفارش باز نمیشه", "https://example.ir/سفارش", "url", ()),
    ("شماره‌ام ۰۹۱۲ ۳۴۵ ۶۷۸۹ است", "۰۹۱۲ ۳۴۵ ۶۷۸۹", "phone", ()),
    ("کارت ۶۰۳۷-۹۹۱۲-۳۴۵۶-۷۸۹۳ دو بار کم شد", "۶۰۳۷-۹۹۱۲-۳۴۵۶-۷۸۹۳", "card", ()),
    ("شبا IR۸۲ ۰۵۴۰ ۱۰۲۶ ۸۰۰۲ ۰۸۱۷ ۹۰۹۰ ۰۲ است", "IR۸۲ ۰۵۴۰ ۱۰۲۶ ۸۰۰۲ ۰۸۱۷ ۹۰۹۰ ۰۲", "iban", ()),
    ("سفارش #۱۲۳۴۵ کجاست؟", "#۱۲۳۴۵", "order", ()),
    ("من سارا احمدی هستم", "سارا احمدی", "name", ("سارا احمدی",)),
    # Vietnamese
    ("Email của tôi là nguyen.an@vi-du.vn nhé.", "nguyen.an@vi-du.vn", "email", ()),
    ("Xem tại shop.example.vn/don-hang/1 nhé", "shop.example.vn/don-hang/1", "url", ()),
    ("Số điện thoại của tôi là 0912 345 678.", "0912 345 678", "phone", ()),
    ("Thẻ 4111111111111111 bị trừ tiền hai lần.", "4111111111111111", "card", ()),
    ("Tài khoản DE89 3704 0044 0532 0130 00 của tôi.", "DE89 3704 0044 0532 0130 00", "iban", ()),
    ("Đơn hàng 100 001 của tôi ở đâu?", "100 001", "order", ()),
    ("Tôi là Nguyễn Văn An.", "Nguyễn Văn An", "name", ("Nguyễn Văn An",)),
]


@pytest.mark.parametrize(("sentence", "value", "kind", "names"), PII)
def test_personal_data_is_found_masked_restored_and_redacted(sentence, value, kind, names):
    start = sentence.index(value)
    assert (start, start + len(value), kind, value) in [
        (s.start, s.end, s.kind, s.value) for s in MASKER.find(sentence, names)
    ]

    masked = MASKER.mask(sentence, names)
    assert value not in masked.text
    assert value in masked.values
    assert MASKER.unmask(masked.text, masked) == sentence

    redacted = MASKER.redact(sentence, names)
    assert value not in redacted
    assert f"[{kind}]" in redacted


@pytest.mark.parametrize(
    ("sentence", "value", "kind"),
    [
        ("Does Tolk Pay work abroad?", "Tolk Pay", "term"),
        ("Is tolk free?", "tolk", "term"),
        ("Write to {support_email} for help.", "{support_email}", "placeholder"),
    ],
)
def test_terms_and_catalogue_placeholders_are_masked_but_stay_in_logs(sentence, value, kind):
    masked = MASKER.mask(sentence)
    assert value not in masked.text
    assert masked.kinds[masked.values.index(value)] == kind
    assert MASKER.redact(sentence) == sentence


def test_glossary_terms_match_whole_words_only():
    assert MASKER.find("I love Tolkien and Tolkish") == []


@pytest.mark.parametrize(
    "sentence",
    [
        "I ordered 2 items 30 days ago.",
        "Back in 2024 it cost €19.99.",
        "Het kost € 1.299,00 en duurt 3-5 werkdagen.",
        "Delivered on 12-05-2024 at 10:30, or was it 2024-05-12?",
        "Giá 150000đ, giảm 20%, tổng cộng 12.500.000 VND.",
        unicodedata.normalize("NFD", "Giá 150000 đồng"),
        "Over 1 000 000 customers trust us.",
        "۲ عدد به قیمت ۱۹.۹۹ دلار، ۳۰ روز پیش",
        "ב-2024 קניתי 3 פריטים ב-₪49.90",
        "Version 3.7.5 of the app crashed.Then I waited.",
        "I bought it.Then it broke, see Node.js or file.txt",
    ],
)
def test_ordinary_numbers_dates_prices_and_words_are_left_alone(sentence):
    assert MASKER.find(sentence) == []
    assert MASKER.mask(sentence).text == sentence
    assert MASKER.redact(sentence) == sentence


def test_name_parts_match_case_insensitively_as_whole_words_in_any_script():
    found = MASKER.find("SARA here; ahmadi is my family name, not Saravanan", ["Sara Ahmadi"])
    assert [(s.value, s.kind) for s in found] == [("SARA", "name"), ("ahmadi", "name")]
    assert [s.value for s in MASKER.find("سلام، سارا هستم", ["سارا احمدی"])] == ["سارا"]


def test_name_particles_alone_are_not_masked():
    assert MASKER.find("Ik woon in de stad", ["Anna de Vries"]) == []
    assert [s.value for s in MASKER.find("Dit is Anna de Vries", ["Anna de Vries"])] == [
        "Anna de Vries"
    ]


def test_decomposed_vietnamese_matches_the_profile_name_and_is_restored_byte_for_byte():
    sentence = unicodedata.normalize("NFD", "Tôi là Nguyễn Văn An")
    masked = MASKER.mask(sentence, ["Nguyễn Văn An"])
    assert masked.text == unicodedata.normalize("NFD", "Tôi là ") + "[[1]]"
    assert MASKER.unmask(masked.text, masked) == sentence


def test_placeholders_are_numbered_in_order_and_repeated_values_share_a_number():
    masked = MASKER.mask("alex@example.com, 06-12345678, alex@example.com")
    assert masked.text == "[[1]], [[2]], [[1]]"
    assert masked.values == ("alex@example.com", "06-12345678")
    assert masked.kinds == ("email", "phone")


MAIL_OR_CALL = MASKER.mask("Mail alex@example.com or call 06-12345678")


@pytest.mark.parametrize(
    "placeholder",
    [
        "[ [1] ]",
        "[[ 1 ]]",
        "[[１]]",
        "[[۱]]",
        "[[١]]",
        "[1]",
        "[[1]",
        "［［1］］",
        "[\u00a0[1]\u00a0]",
    ],
)
def test_unmask_tolerates_what_translators_do_to_placeholders(placeholder):
    assert MAIL_OR_CALL.text == "Mail [[1]] or call [[2]]"
    translated = f"Envoyez {placeholder} ou appelez [[2]]"
    assert MASKER.unmask(translated, MAIL_OR_CALL) == (
        "Envoyez alex@example.com ou appelez 06-12345678"
    )


def test_unmask_follows_numbers_when_a_right_to_left_translation_reorders_them():
    assert MASKER.unmask("התקשר [[2]] או שלח [[1]]", MAIL_OR_CALL) == (
        "התקשר 06-12345678 או שלח alex@example.com"
    )


def test_a_lost_placeholder_is_appended_and_an_unknown_one_left_alone():
    assert MASKER.unmask("Appelez [[2]] [[7]]", MAIL_OR_CALL) == (
        "Appelez 06-12345678 [[7]] alex@example.com"
    )


def test_text_that_already_looks_like_placeholders_survives():
    sentence = "See [1], [[2]] and ［3］ about alex@example.com [[9]]"
    masked = MASKER.mask(sentence)
    assert "alex@example.com" not in masked.text
    assert MASKER.unmask(masked.text, masked) == sentence


# --- properties ------------------------------------------------------------------------

NAMES = ("Sara Ahmadi", "שרה כהן", "Nguyễn Văn An")


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_mask_then_unmask_returns_any_text_unchanged(text):
    masked = MASKER.mask(text, NAMES)
    assert MASKER.unmask(masked.text, masked) == text


FRAGMENTS = [
    "[[1]]", "[1]", "[", "]", "[[", "]]", "［", "】", " ", "\u00a0", "#", "+", "-", ".", "@",
    "{support_email}", "{x}", "alex@example.com", "www.x.com", "Tolk", "sara", "SARA",
    "+31 6 1234 5678", "10 001", "#10001", "۱۲۳۴۵", "4111 1111 1111 1111",
    "NL91 ABNA 0417 1643 00", "(", ")", "\u200f", "\u0301", "😀", "中文",
]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text("[]１۱٣0 ", max_size=3)).map("".join))
def test_mask_then_unmask_survives_brackets_and_digits_around_values(text):
    masked = MASKER.mask(text, NAMES)
    assert MASKER.unmask(masked.text, masked) == text


def _digits(size: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=size, max_size=size)


def _luhn(body: str) -> str:
    total = 0
    for index, char in enumerate(reversed(body + "0")):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return body + str((10 - total % 10) % 10)


def _iban(country: str, bban: str) -> str:
    number = int("".join(str(int(char, 36)) for char in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


def _grouped(value: str, separator: str) -> str:
    return separator.join(value[i : i + 4] for i in range(0, len(value), 4))


def _maybe_persian(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(values, st.booleans()).map(
        lambda pair: pair[0].translate(PERSIAN_DIGITS) if pair[1] else pair[0]
    )


EMAILS = st.builds(
    "{}@{}.{}".format,
    st.from_regex(r"[a-z][a-z0-9]{0,7}(\.[a-z0-9]{1,5})?", fullmatch=True),
    st.from_regex(r"[a-z]{2,10}", fullmatch=True),
    st.sampled_from(["com", "nl", "ir", "vn", "co.il"]),
)
PHONES = _maybe_persian(
    st.one_of(
        st.builds(
            "+{} {} {} {}".format,
            st.sampled_from(["31", "98", "972", "84", "1"]),
            st.integers(1, 999).map(str),
            _digits(3),
            _digits(4),
        ),
        st.builds("0{}-{}".format, _digits(2), _digits(7)),
        st.builds("(0{}) {}-{}".format, _digits(2), _digits(3), _digits(4)),
        st.builds("09{} {} {}".format, _digits(2), _digits(3), _digits(4)),
    )
)
CARDS = _maybe_persian(
    st.tuples(_digits(15).map(_luhn), st.sampled_from(["", " ", "-"])).map(
        lambda pair: _grouped(*pair)
    )
)
IBANS = _maybe_persian(
    st.tuples(
        st.sampled_from(["NL", "DE", "GB", "IR", "BE", "FR"]),
        st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=11, max_size=30),
        st.sampled_from(["", " "]),
    ).map(lambda t: _grouped(_iban(t[0], t[1]), t[2]))
)
ORDERS = _maybe_persian(
    st.tuples(st.integers(10_000, 999_999).map(str), st.sampled_from(["{}", "#{}", "spaced"])).map(
        lambda pair: (
            f"{pair[0][:-3]} {pair[0][-3:]}" if pair[1] == "spaced" else pair[1].format(pair[0])
        )
    )
)

# Currency words are left out: "12345 dollars" is a price, not an order number.
CURRENCY_WORDS = {"usd", "eur", "gbp", "vnd", "irr", "ils", "nis", "dong", "euro", "euros"}
WORDS = st.one_of(
    st.from_regex(r"[a-z]{1,8}", fullmatch=True).filter(lambda w: w not in CURRENCY_WORDS),
    st.sampled_from(["đơn", "hàng", "của", "tôi", "ở", "đâu", "thẻ", "cảm", "ơn", "điện"]).map(
        lambda w: unicodedata.normalize("NFD", w) if len(w) % 2 else w
    ),
    st.text("אבגדהוזחטיכלמנסעפצקרשתךםןףץ", min_size=1, max_size=6).filter(lambda w: w != "שקל"),
    st.text("ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی\u200c", min_size=1, max_size=6).filter(
        lambda w: w.strip("\u200c") and w not in {"ریال", "تومان"}
    ),
    st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=4),
    st.sampled_from(["😀", "🎉", "👍🏽", "❤️", "🇳🇱", "a\u0301"]),
)


@st.composite
def sentences(draw: st.DrawFn) -> tuple[str, list[str]]:
    """Words in several scripts with personal data in between, never two values adjacent."""
    values = draw(st.lists(st.one_of(EMAILS, PHONES, CARDS, IBANS, ORDERS), min_size=1, max_size=4))
    parts = draw(st.lists(WORDS, max_size=3))
    for value in values:
        parts += [value, *draw(st.lists(WORDS, min_size=1, max_size=3))]
    return " ".join(parts), values


def _translate(data: st.DataObject, text: str) -> str:
    """What a careless machine translator does: reorders words, pads and re-scripts
    placeholders, and loses one of them."""
    text = " ".join(data.draw(st.permutations(text.split(" "))))
    numbers = re.findall(r"\[\[(\d+)\]\]", text)
    text = text.replace(f"[[{data.draw(st.sampled_from(numbers))}]]", "", 1)

    def disguise(match: re.Match[str]) -> str:
        number = match.group(1)
        if data.draw(st.booleans()):
            number = number.translate(PERSIAN_DIGITS)
        shape = data.draw(st.sampled_from(["[[{}]]", "[ [{}] ]", "[[ {} ]]", "[{}]", "［［{}］］"]))
        return shape.format(number)

    return re.sub(r"\[\[(\d+)\]\]", disguise, text)


@settings(max_examples=150, deadline=None)
@given(sentences(), st.data())
def test_personal_data_never_reaches_the_translator_and_always_comes_back(sentence, data):
    text, values = sentence
    masked = MASKER.mask(text)
    outside_placeholders = re.sub(r"\[\[\d+\]\]", "", masked.text)
    for value in values:
        assert value not in masked.text
    assert not re.search(r"[\d@]", outside_placeholders)

    restored = MASKER.unmask(_translate(data, masked.text), masked)
    for value in values:
        assert value in restored


@pytest.mark.parametrize("burst", ["😀" * 4096, "!" * 4095 + "a", "(!" * 2048])
def test_a_burst_of_emoji_or_punctuation_is_masked_quickly(burst):
    # spaCy's tokenizer alone takes seconds on such a message.
    started = time.perf_counter()
    masked = MASKER.mask(burst, NAMES)
    assert time.perf_counter() - started < 0.5
    assert MASKER.unmask(masked.text, masked) == burst

import unicodedata

from tolk_core.normalize import clean, for_nlu


def test_persian_zwnj_space_and_nothing_are_one_form():
    assert for_nlu("می‌خواهم") == for_nlu("می خواهم") == for_nlu("میخواهم")
    assert for_nlu("نمی‌دونم") == for_nlu("نمی دونم") == for_nlu("نمیدونم")


def test_arabic_keyboard_letters_become_persian():
    assert for_nlu("سفارشم كي ميرسه") == for_nlu("سفارشم کی میرسه")


def test_persian_and_arabic_indic_digits_become_ascii():
    assert clean("سفارش ۱۰۰۰۱") == "سفارش 10001"
    assert clean("طلب ١٠٠٠٢") == "طلب 10002"


def test_vietnamese_decomposed_diacritics_are_composed():
    decomposed = unicodedata.normalize("NFD", "Đơn hàng của tôi ở đâu")
    assert decomposed != "Đơn hàng của tôi ở đâu"
    assert clean(decomposed) == "Đơn hàng của tôi ở đâu"


def test_hebrew_niqqud_is_removed():
    assert for_nlu("שָׁלוֹם") == "שלום"


def test_invisible_marks_and_extra_spaces_go():
    assert clean("\u200fhello\u200b   world \ufeff") == "hello world"


def test_latin_text_is_unchanged():
    assert for_nlu("Where is my order 10001?") == "Where is my order 10001?"

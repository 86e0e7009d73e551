"""Language names: how to list languages to a customer, and how customers name them.

Used to answer "which languages do you speak?", to understand "can we speak Dutch?" in
any native language, and for the `/language` command.
"""

from __future__ import annotations

import re

from tolk_core.normalize import for_nlu

# code -> (English name, the language's own name)
NAMES: dict[str, tuple[str, str]] = {
    "en": ("English", "English"),
    "nl": ("Dutch", "Nederlands"),
    "he": ("Hebrew", "עברית"),
    "fa": ("Persian", "فارسی"),
    "vi": ("Vietnamese", "Tiếng Việt"),
    "ar": ("Arabic", "العربية"),
    "de": ("German", "Deutsch"),
    "es": ("Spanish", "Español"),
    "fr": ("French", "Français"),
    "it": ("Italian", "Italiano"),
    "pt": ("Portuguese", "Português"),
    "pl": ("Polish", "Polski"),
    "ro": ("Romanian", "Română"),
    "sv": ("Swedish", "Svenska"),
    "el": ("Greek", "Ελληνικά"),
    "ru": ("Russian", "Русский"),
    "uk": ("Ukrainian", "Українська"),
    "tr": ("Turkish", "Türkçe"),
    "hi": ("Hindi", "हिन्दी"),
    "id": ("Indonesian", "Bahasa Indonesia"),
    "zh": ("Chinese", "中文"),
    "ja": ("Japanese", "日本語"),
    "ko": ("Korean", "한국어"),
}

# Languages detected besides the native ones: customers who write them are answered
# through the English pivot (or, offline, told which languages we speak).
PIVOT_CANDIDATES = tuple(code for code in NAMES if code not in ("en", "nl", "he", "fa", "vi"))

# How customers name languages in the five native languages (lowercase, after for_nlu).
_ALIASES: dict[str, tuple[str, ...]] = {
    "en": ("english", "engels", "engelse", "אנגלית", "انگلیسی", "tiếng anh", "tieng anh"),
    "nl": ("dutch", "nederlands", "hollands", "vlaams", "הולנדית", "هلندی", "tiếng hà lan",
           "tieng ha lan"),
    "he": ("hebrew", "hebreeuws", "ivrit", "עברית", "عبری", "tiếng do thái", "tieng do thai"),
    "fa": ("persian", "farsi", "perzisch", "פרסית", "فارسی", "tiếng ba tư", "tieng ba tu"),
    "vi": ("vietnamese", "vietnamees", "וייטנאמית", "ویتنامی", "tiếng việt", "tieng viet"),
    "de": ("german", "duits", "deutsch", "גרמנית", "آلمانی", "tiếng đức", "tieng duc"),
    "es": ("spanish", "spaans", "español", "espanol", "ספרדית", "اسپانیایی", "tiếng tây ban nha"),
    "fr": ("french", "frans", "français", "francais", "צרפתית", "فرانسوی", "tiếng pháp"),
    "ar": ("arabic", "arabisch", "ערבית", "عربی", "tiếng ả rập", "tieng a rap"),
    "ru": ("russian", "russisch", "רוסית", "روسی", "tiếng nga", "tieng nga"),
    "tr": ("turkish", "turks", "טורקית", "ترکی", "tiếng thổ nhĩ kỳ"),
    "it": ("italian", "italiaans", "איטלקית", "ایتالیایی", "tiếng ý", "tieng y"),
    "pt": ("portuguese", "portugees", "פורטוגזית", "پرتغالی", "tiếng bồ đào nha"),
    "pl": ("polish", "pools", "פולנית", "لهستانی", "tiếng ba lan"),
    "uk": ("ukrainian", "oekraïens", "אוקראינית", "اوکراینی", "tiếng ukraina"),
    "zh": ("chinese", "chinees", "mandarin", "סינית", "چینی", "tiếng trung", "tieng trung"),
    "ja": ("japanese", "japans", "יפנית", "ژاپنی", "tiếng nhật", "tieng nhat"),
    "ko": ("korean", "koreaans", "קוריאנית", "کره‌ای", "tiếng hàn", "tieng han"),
}  # fmt: skip


def base_language(tag: str) -> str:
    """The language of a tag as channels send it: "pt-BR", "pt_br", " NL " -> "pt", "nl"."""
    return tag.strip().lower().replace("_", "-").split("-")[0]


def own_name(code: str) -> str:
    """The language's name for itself ("Nederlands"); the code when unknown."""
    return NAMES.get(code, (code, code))[1]


def display_name(code: str) -> str:
    english, own = NAMES.get(code, (code, code))
    return own if own == english else f"{own} ({english})"


def _pattern(alias: str) -> re.Pattern[str]:
    alias = for_nlu(alias).lower()
    if alias.isascii():
        return re.compile(rf"(?<![\w]){re.escape(alias)}(?![\w])")
    # Hebrew and Persian attach prepositions to the word ("באנגלית", "به‌انگلیسی").
    return re.compile(re.escape(alias))


_PATTERNS = [(code, _pattern(alias)) for code, aliases in _ALIASES.items() for alias in aliases]


def named_languages(text: str) -> list[str]:
    """Language codes named in `text`, in the order they are mentioned."""
    text = for_nlu(text).lower()
    found: list[tuple[int, str]] = []
    for code, pattern in _PATTERNS:
        match = pattern.search(text)
        if match:
            found.append((match.start(), code))
    return list(dict.fromkeys(code for _, code in sorted(found)))

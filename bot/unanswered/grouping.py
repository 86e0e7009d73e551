"""Similar messages together, per language, so that a content editor reads "where is my
parcel" once with a count instead of forty times.

Pure Python and deterministic: each text becomes its set of character 3-grams (after the
NLU's own normalisation, case folded, punctuation dropped), and a greedy leader clustering
puts a message in the group whose first message (its leader) is most similar to it by
cosine of the two sets, if that is at least SIMILAR, else starts a group. Messages are
taken oldest first, ties broken by seq, so the same data always gives the same groups.
An inverted index from 3-gram to groups means a message is compared only with groups it
shares a 3-gram with: at worst n x groups comparisons, usually far fewer. Only the first
MAX_GROUPING_CHARS of a text are used, so a pasted novel costs what a sentence does.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from dataclasses import dataclass

from bot.unanswered.items import WHYS, Item
from tolk_core.normalize import for_nlu

# How much of a text is compared: a question is a sentence or two; past that it is a
# pasted e-mail or an attack, and its start says what it is about.
MAX_GROUPING_CHARS = 200
# Cosine of the 3-gram sets at which two texts are "the same question". Measured: "where
# is my parcel" / "where is my parcel??" 1.0, / "wheres my parcel" 0.82, / "where is my
# order" 0.63 (together); "change my address" / "change my email" 0.56 and "cancel my
# order" / "where is my order" 0.50 (apart: different requests sharing "my ...").
SIMILAR = 0.6
EXAMPLES = 3
NO_INTENT = "nlu_fallback"  # Rasa's FallbackClassifier: no intent was likely enough
# Bounds on the work per message (see _best_leader): index entries read, and leaders then
# measured exactly: 5,000 messages of random text group in 1-3 s on one core.
CANDIDATE_BUDGET = 1000
CANDIDATES = 8
# Examples and representatives are cut to this for showing (the whole text is stored).
SHOWN_CHARS = 300


def grouping_key(text: str) -> str:
    """The text as compared: normalised, case folded, letters, marks and digits only."""
    text = for_nlu(text[: MAX_GROUPING_CHARS * 2])
    kept = "".join(
        character if unicodedata.category(character)[0] in "LMN" else " "
        for character in text.casefold()
    )
    key = " ".join(kept.split())[:MAX_GROUPING_CHARS]
    # Only punctuation or emoji ("???", "👍👍"): compare those as they are.
    return key or " ".join(text.split())[:MAX_GROUPING_CHARS]


def trigrams(key: str) -> frozenset[str]:
    padded = f" {key} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2)) or frozenset({padded})


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def shown(text: str | None) -> str | None:
    """A text for a table or a page: one line, at most SHOWN_CHARS characters."""
    if text is None:
        return None
    line = " ".join(text[: SHOWN_CHARS * 4].split())
    return line if len(line) <= SHOWN_CHARS else line[: SHOWN_CHARS - 1] + "…"


@dataclass
class Group:
    language: str
    items: list[Item]  # oldest first; items[0] is the leader
    keys: list[str]

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def representative(self) -> Item:
        """The text written most often in the group (as compared); the oldest on a tie."""
        counts = Counter(self.keys)
        best = max(counts.values())
        return next(i for i, k in zip(self.items, self.keys, strict=True) if counts[k] == best)

    @property
    def whys(self) -> dict[str, int]:
        counts = Counter(item.why for item in self.items)
        return {why: counts.get(why, 0) for why in WHYS}

    @property
    def intents(self) -> list[tuple[str, int]]:
        """The intents guessed, most often first (name order on a tie); not Rasa's
        nlu_fallback, which says only that it had no guess."""
        counts = Counter(
            item.intent for item in self.items if item.intent and item.intent != NO_INTENT
        )
        return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))

    @property
    def channels(self) -> list[str]:
        return sorted({item.channel for item in self.items})

    @property
    def examples(self) -> list[Item]:
        """Up to EXAMPLES differently written texts, newest first, the representative first."""
        chosen = [self.representative]
        seen = {grouping_key(chosen[0].text)}
        pairs = zip(self.items, self.keys, strict=True)
        for item, key in sorted(pairs, key=lambda p: (p[0].when, p[0].id), reverse=True):
            if len(chosen) == EXAMPLES:
                break
            if key not in seen:
                seen.add(key)
                chosen.append(item)
        return chosen


def group(items: list[Item]) -> list[Group]:
    """The items grouped per language: languages by name, groups by count (descending),
    then by their leader's time and seq."""
    by_language: dict[str, list[Item]] = {}
    for item in sorted(items, key=lambda i: (i.when, i.id)):
        by_language.setdefault(item.language, []).append(item)
    grouped: list[Group] = []
    for language in sorted(by_language):
        mine = _leader_clustering(language, by_language[language])
        grouped += sorted(mine, key=lambda g: (-g.count, g.items[0].when, g.items[0].id))
    return grouped


def _leader_clustering(language: str, items: list[Item]) -> list[Group]:
    groups: list[Group] = []
    leaders: list[frozenset[str]] = []
    index: dict[str, list[int]] = {}
    for item in items:
        key = grouping_key(item.text)
        grams = trigrams(key)
        best = _best_leader(grams, leaders, index)
        if best is not None:
            groups[best].items.append(item)
            groups[best].keys.append(key)
            continue
        number = len(groups)
        groups.append(Group(language, [item], [key]))
        leaders.append(grams)
        for gram in grams:
            index.setdefault(gram, []).append(number)
    return groups


def _best_leader(
    grams: frozenset[str], leaders: list[frozenset[str]], index: dict[str, list[int]]
) -> int | None:
    """The most similar leader at SIMILAR or above (the oldest on a tie), or None.

    Candidates are the leaders sharing the text's rarest 3-grams, up to CANDIDATE_BUDGET
    index entries read; the CANDIDATES sharing most are then measured exactly. A near
    duplicate shares nearly all 3-grams, the rare ones too, so it is among them; what the
    budget saves is reading long lists for common 3-grams ("the", " my") that thousands
    of unrelated groups share."""
    # Rarest first; by the 3-gram itself on a tie, so that the order never depends on
    # the set's (hash-seeded) iteration order.
    known = sorted((g for g in grams if g in index), key=lambda g: (len(index[g]), g))
    shared: Counter[int] = Counter()
    budget = CANDIDATE_BUDGET
    for gram in known:
        if budget <= 0:
            break
        posting = index[gram]
        shared.update(posting[:budget])
        budget -= len(posting)
    # most_common breaks ties by first insertion: deterministic, as the order above is.
    ranked = shared.most_common(CANDIDATES)
    best, best_score = None, SIMILAR
    for number, _ in sorted(ranked):  # oldest first, so a tie keeps the oldest
        score = similarity(grams, leaders[number])
        if score > best_score or (score == best_score and best is None):
            best, best_score = number, score
    return best

"""Reading Rasa NLU training files (data/nlu/<language>/*.yml): the content check, the
escalation classifier and the variant generator all read examples the same way."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import yaml

from tolk_core.normalize import for_nlu

# data/nlu/<language>/variants.yml, written by tolk_tools/nlu_variants.py from the other
# files of the folder (never edited by hand).
GENERATED_EXAMPLES = "variants.yml"
# Fewer examples than this per intent and language and the content check fails.
MIN_EXAMPLES = 15


def nlu_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs from one Rasa NLU YAML file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return examples_in(data)


def examples_in(data: object) -> list[tuple[str, str]]:
    """(text, intent) pairs from an already parsed Rasa NLU document."""
    pairs = []
    blocks = data.get("nlu") if isinstance(data, dict) else None
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict) or "intent" not in block:
            continue
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- ") and line[2:].strip():
                pairs.append((line[2:].strip(), str(block["intent"])))
    return pairs


def training_examples(root: Path, language: str) -> dict[str, list[str]]:
    """intent -> examples, from data/nlu/<language>/*.yml."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted((root / "data" / "nlu" / language).glob("*.yml")):
        for text, intent in nlu_examples(path):
            found[intent].append(text)
    return found


def example_key(text: str) -> str:
    """What the NLU sees of an example: normalised, case and spacing folded."""
    return " ".join(for_nlu(text).casefold().split())

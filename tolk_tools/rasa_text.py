"""Rasa's and the action server's text functions (tolk_tools/hostile_text.py measures
them): the escalation detector inside Rasa's NLU pipeline and the slot extraction of the
account forms. Run in Rasa's environment:

    .venv-rasa/bin/python -m tolk_tools.rasa_text   # their worst case, one line each

`python -m bot bench` runs that command for its last section.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial

from tolk_tools.hostile_text import hostile_texts, warmed, worst_case


def text_functions() -> dict[str, Callable[[str], object]]:
    """As Rasa and the action server build them (trains the classifier: seconds)."""
    from actions.shop import slots
    from nlu_components.escalation.classifier import EscalationClassifier
    from nlu_components.escalation.policy import EscalationPolicy
    from tolk_core.project import NATIVE_LANGUAGES, PROJECT_ROOT

    classifier = EscalationClassifier.train(PROJECT_ROOT, NATIVE_LANGUAGES)
    policy = EscalationPolicy.load(PROJECT_ROOT / "data" / "escalation", classifier=classifier)
    return warmed(
        {
            "slots: order number": slots.order_number,
            "slots: e-mail": slots.email,
            "slots: postal address": slots.postal_address,
            "escalation: assess (en)": partial(_assess, policy, "en", asked=False),
            "escalation: assess (he, asked again)": partial(_assess, policy, "he", asked=True),
            "escalation: classifier": classifier.probabilities,
        }
    )


def _assess(policy, language: str, text: str, *, asked: bool) -> object:
    earlier = (text, text, text) if asked else ()
    return policy.assess(text, language, "track_order", earlier)


def main() -> int:
    for line in worst_case(text_functions(), hostile_texts()):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

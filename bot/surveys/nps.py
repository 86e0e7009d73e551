"""Net promoter score: "how likely are you to recommend us", 0 to 10, then "why?".

Asked instead of the CSAT or CES question to a sample of conversations (TOLK_NPS_SAMPLE,
0.1 by default), at most once per conversation in NPS_EVERY. Which conversations are in
the sample is decided by a hash of the conversation key, so the same conversation is
always in or out (replicas agree, tests can pick one), and the sample is not skewed by
who happens to write first. The free-text reason is stored with its English translation
for the lead (bot/surveys/service.py).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from bot.surveys.kinds import SurveyKind

KIND = SurveyKind(
    "nps", 0, 10, ask="utter_nps_ask", thanks="utter_survey_thanks", follow_up="utter_nps_why"
)

# A customer is asked to recommend us at most this often, however many sessions they have.
NPS_EVERY = timedelta(days=90)


def in_sample(conversation_key: str, sample: float) -> bool:
    """Whether this conversation is among the `sample` share (0..1) asked for the NPS."""
    if sample <= 0:
        return False
    digest = hashlib.sha256(conversation_key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < sample

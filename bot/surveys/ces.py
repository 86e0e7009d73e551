"""Customer effort: "how easy was it to get what you needed", 1 (very hard) to 7 (very easy).

Asked right after an account request was done (an order tracked, a cancellation, a refund:
the account actions' result responses, bot/outcomes.py), while the effort is fresh.
"""

from __future__ import annotations

from bot.surveys.kinds import SurveyKind

KIND = SurveyKind("ces", 1, 7, ask="utter_ces_ask", thanks="utter_survey_thanks")

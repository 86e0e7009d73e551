"""Customer satisfaction: "how would you rate the help you got", 1 (poor) to 5 (excellent).

Asked after a bot-only request was answered and the customer closes the session (thanks,
goodbye), and after an agent resolved a ticket (bot/surveys/service.py). The figure is the
share of 4s and 5s and the mean (bot/metrics/).
"""

from __future__ import annotations

from bot.surveys.kinds import SurveyKind

KIND = SurveyKind("csat", 1, 5, ask="utter_csat_ask", thanks="utter_csat_thanks")

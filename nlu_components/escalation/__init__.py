"""Whether a message should reach a person: lexicons, a classifier and the policy that
weighs them with the NLU's confidence. Run inside Rasa by
`nlu_components/escalation_detector.py`; no Rasa imports here, so the policy can be
measured on its own (tests/handoff/quality.py, the bench)."""

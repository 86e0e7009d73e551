"""Custom Rasa actions (rasa-sdk). Thin dialogue glue; no I/O at import time."""

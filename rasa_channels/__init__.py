"""Input channels that `rasa run` loads from credentials.yml (Rasa's side, Python 3.10)."""

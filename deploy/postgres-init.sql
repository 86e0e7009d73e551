-- Not exercised in CI: run once by the postgres image of deploy/compose.yaml when its
-- volume is empty. The bot's data is in `tolk` (POSTGRES_DB); Rasa's trackers get their
-- own database, `rasa` (TOLK_TRACKER_URL).
CREATE DATABASE rasa OWNER tolk;

import logging

from bot.logs import RedactingFilter
from bot.translation.masking import Masker


def test_personal_data_never_reaches_a_log_line(caplog):
    logger = logging.getLogger("tolk.test")
    logger.addFilter(RedactingFilter(Masker()))
    with caplog.at_level(logging.INFO, logger="tolk.test"):
        logger.info("customer wrote %s", "mail me at ana@example.es or call +31 6 1234 5678")
    assert "ana@example.es" not in caplog.text
    assert "1234 5678" not in caplog.text
    assert "[email]" in caplog.text and "[phone]" in caplog.text

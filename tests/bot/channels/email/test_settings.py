"""TOLK_SMTP_URL, TOLK_IMAP_URL, TOLK_EMAIL_FROM and the inbound token, read once."""

from __future__ import annotations

import pytest

from bot.channels.email.urls import parse_imap_url, parse_smtp_url
from bot.settings import Settings, SettingsError


def test_mail_server_urls():
    smtp = parse_smtp_url("smtp://support%40shop.example:p%40ss@mail.example:587")
    assert (smtp.host, smtp.port, smtp.tls, smtp.starttls) == ("mail.example", 587, False, True)
    assert (smtp.user, smtp.password) == ("support@shop.example", "p@ss")
    assert parse_smtp_url("smtps://u:p@mail.example").port == 465
    assert not parse_smtp_url("smtp://127.0.0.1:2525?starttls=0").starttls
    imap = parse_imap_url("imaps://u:p@mail.example/Support%20Box")
    assert (imap.port, imap.tls, imap.mailbox) == (993, True, "Support Box")
    with pytest.raises(ValueError):
        parse_smtp_url("http://mail.example")
    with pytest.raises(ValueError):
        parse_imap_url("imaps://u:p@mail.example:notaport")


def test_settings_check_the_mail_variables():
    read = Settings.from_env(
        {
            "TOLK_SMTP_URL": "smtps://u:p@mail.example",
            "TOLK_EMAIL_FROM": "Shop <support@shop.example>",
            "TOLK_EMAIL_INBOUND_TOKEN": "0123456789abcdef",
            "TOLK_EMAIL_POLL_SECONDS": "5",
        }
    )
    assert read.email_from == "Shop <support@shop.example>" and read.email_poll_seconds == 5
    assert "u:p" not in repr(read) and "0123456789abcdef" not in repr(read)
    with pytest.raises(SettingsError, match="TOLK_EMAIL_FROM"):
        Settings.from_env({"TOLK_SMTP_URL": "smtps://u:p@mail.example"})
    with pytest.raises(SettingsError, match="TOLK_SMTP_URL"):
        Settings.from_env({"TOLK_SMTP_URL": "ftp://x", "TOLK_EMAIL_FROM": "a@b.org"})
    with pytest.raises(SettingsError, match="16"):
        Settings.from_env({"TOLK_EMAIL_INBOUND_TOKEN": "short", "TOLK_EMAIL_FROM": "a@b.org"})
    with pytest.raises(SettingsError, match="address"):
        Settings.from_env({"TOLK_EMAIL_FROM": "not an address"})

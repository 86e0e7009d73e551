"""E-mail: a conversation continued by mail (SMTP out; IMAP polling or a webhook in)."""

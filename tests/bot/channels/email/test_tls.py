"""Mail over TLS, verified: STARTTLS on a submission port, implicit TLS (smtps, imaps), and
a server whose certificate nobody vouches for refused, with nothing sent in the clear.

A certificate authority made for the test (Debian's openssl) signs a certificate for
127.0.0.1; Tolk trusts it the way a deployment adds a private CA, through OpenSSL's
`SSL_CERT_FILE`, and otherwise uses the system's trust store untouched.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from bot.channels.email.imap import ImapPoller
from bot.channels.email.outbound import SmtpSender
from bot.channels.email.threads import Thread, ThreadStore
from bot.channels.email.urls import parse_imap_url, parse_smtp_url
from bot.db import create_engine, create_schema
from bot.errors import Unavailable
from tests.bot.channels.email.imap_server import ImapStandIn

PORT = 17311


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> Path:
    """ca.pem (the authority) and server.pem/server.key for 127.0.0.1, in a directory."""
    if shutil.which("openssl") is None:
        pytest.fail("the TLS tests need Debian's openssl: apt-get install openssl")
    where = tmp_path_factory.mktemp("tls")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
             "-out", "ca.pem", "-days", "2", "-subj", "/CN=Tolk test CA",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=where)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
             "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=where)  # fmt: skip
    # What Python's strict verification asks of a server certificate.
    (where / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"
    )
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2",
             "-extfile", "server.ext", cwd=where)  # fmt: skip
    return where


def _server_context(certificates: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates / "server.pem", certificates / "server.key")
    return context


@pytest.fixture
def trusted(certificates, monkeypatch):
    """Tolk's process trusts the test authority (read by OpenSSL when a context is made)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates / "ca.pem"))


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[bool, bytes]] = []  # (over TLS, content)

    async def handle_DATA(self, server, session, envelope):
        # STARTTLS sets session.ssl; an implicit-TLS listener's transport carries it.
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        self.mails.append((tls, envelope.content))
        return "250 OK"


@pytest.fixture
def starttls_server(certificates):
    """A submission server that takes no mail before STARTTLS."""
    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=PORT,
        tls_context=_server_context(certificates), require_starttls=True,
    )  # fmt: skip
    controller.start()
    yield inbox
    controller.stop()


@pytest.fixture
def smtps_server(certificates):
    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=PORT + 1, ssl_context=_server_context(certificates)
    )
    controller.start()
    yield inbox
    controller.stop()


def _mail(sender: SmtpSender) -> EmailMessage:
    thread = Thread(id=1, sender="web-1", address="dana@example.co.il", reference="R" * 10,
                    last_message_id=None, opened_at=datetime(2026, 12, 1))  # fmt: skip
    return sender.compose(thread, "Your conversation", ["שלום, החבילה בדרך"], "Tolk")


async def test_starttls_is_used_and_verified(starttls_server, trusted):
    sender = SmtpSender(parse_smtp_url(f"smtp://127.0.0.1:{PORT}?starttls=1"), "s@shop.example")
    await sender.send(_mail(sender))
    assert [tls for tls, _ in starttls_server.mails] == [True]


async def test_implicit_tls_smtps(smtps_server, trusted):
    sender = SmtpSender(parse_smtp_url(f"smtps://127.0.0.1:{PORT + 1}"), "s@shop.example")
    await sender.send(_mail(sender))
    assert len(smtps_server.mails) == 1 and smtps_server.mails[0][0]


async def test_a_certificate_nobody_vouches_for_is_refused(starttls_server, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)  # the system's authorities only
    sender = SmtpSender(parse_smtp_url(f"smtp://127.0.0.1:{PORT}?starttls=1"), "s@shop.example")
    with pytest.raises(Unavailable):
        await sender.send(_mail(sender))
    assert starttls_server.mails == []


async def test_a_server_that_wants_tls_gets_no_mail_in_the_clear(starttls_server, trusted):
    sender = SmtpSender(parse_smtp_url(f"smtp://127.0.0.1:{PORT}?starttls=0"), "s@shop.example")
    with pytest.raises(Unavailable):
        await sender.send(_mail(sender))
    assert starttls_server.mails == []


async def test_imaps_is_verified(certificates, trusted, tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'tolk.db'}")
    await create_schema(engine)
    server = ImapStandIn("support@shop.example", "s3cret")
    await server.start(tls=_server_context(certificates))
    try:
        uid = server.add(b"From: dana@example.co.il\r\nSubject: hi\r\n\r\nhello\r\n")
        received: list[bytes] = []

        async def keep(raw: bytes) -> None:
            received.append(raw)

        url = f"imaps://support%40shop.example:s3cret@127.0.0.1:{server.port}/INBOX"
        poller = ImapPoller(parse_imap_url(url), ThreadStore(engine), keep)
        assert await poller.poll() == 1
        assert received and b"hello" in received[0] and server.seen(uid)
    finally:
        await server.stop()
        await engine.dispose()

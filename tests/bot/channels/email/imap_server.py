"""A small IMAP4rev1 stand-in on loopback: what imaplib sends for Tolk's poller (LOGIN,
SELECT, UID SEARCH, UID FETCH, UID STORE, LOGOUT, CAPABILITY) over a real socket.

Debian's dovecot would need root, a system user and a config per test; this speaks just
the protocol subset our client uses, and records every command and flag change so that
tests can check that a mail is marked \\Seen only after it was stored.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field


@dataclass
class StoredMail:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)


class ImapStandIn:
    def __init__(self, user: str, password: str, uidvalidity: int = 7) -> None:
        self.user, self.password = user, password
        self.uidvalidity = uidvalidity
        self.mails: list[StoredMail] = []
        self.commands: list[str] = []
        self._next_uid = 1
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    def add(self, raw: bytes) -> int:
        mail = StoredMail(self._next_uid, raw)
        self._next_uid += 1
        self.mails.append(mail)
        return mail.uid

    def seen(self, uid: int) -> bool:
        return any(m.uid == uid and "\\Seen" in m.flags for m in self.mails)

    async def start(self, tls: ssl.SSLContext | None = None) -> int:
        """Listen on a free port; with `tls`, implicit TLS (imaps) like port 993."""
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0, ssl=tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK IMAP4rev1 stand-in ready\r\n")
        logged_in = False
        try:
            while line := await reader.readline():
                tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
                command, _, args = rest.partition(" ")
                command = command.upper()
                self.commands.append(f"{command} {args}".strip())
                if command == "CAPABILITY":
                    writer.write(b"* CAPABILITY IMAP4rev1\r\n")
                elif command == "LOGIN":
                    user, _, password = args.partition(" ")
                    if (user.strip('"'), password.strip('"')) != (self.user, self.password):
                        writer.write(f"{tag} NO wrong login\r\n".encode())
                        continue
                    logged_in = True
                elif command == "SELECT" and logged_in:
                    writer.write(f"* {len(self.mails)} EXISTS\r\n".encode())
                    writer.write(f"* OK [UIDVALIDITY {self.uidvalidity}] ok\r\n".encode())
                    writer.write(f"{tag} OK [READ-WRITE] selected\r\n".encode())
                    continue
                elif command == "UID" and logged_in:
                    self._uid(args, writer)
                elif command == "LOGOUT":
                    writer.write(f"* BYE\r\n{tag} OK bye\r\n".encode())
                    await writer.drain()
                    break
                else:
                    writer.write(f"{tag} BAD unknown\r\n".encode())
                    continue
                writer.write(f"{tag} OK done\r\n".encode())
                await writer.drain()
        finally:
            writer.close()

    def _uid(self, args: str, writer: asyncio.StreamWriter) -> None:
        sub, _, rest = args.partition(" ")
        sub = sub.upper()
        if sub == "SEARCH":  # "UID <n>:*"
            low = int(rest.split()[1].split(":")[0])
            found = [m.uid for m in self.mails if m.uid >= low] or [
                m.uid for m in self.mails[-1:]
            ]  # RFC 3501: n:* always matches the highest UID
            writer.write(("* SEARCH " + " ".join(map(str, found)) + "\r\n").encode())
            return
        uid_text, _, what = rest.partition(" ")
        index, mail = next(
            ((i, m) for i, m in enumerate(self.mails, 1) if m.uid == int(uid_text)), (0, None)
        )
        if mail is None:
            return
        if sub == "FETCH" and "RFC822.SIZE" in what:
            writer.write(
                f"* {index} FETCH (UID {mail.uid} RFC822.SIZE {len(mail.raw)})\r\n".encode()
            )
        elif sub == "FETCH":
            writer.write(f"* {index} FETCH (UID {mail.uid} BODY[] {{{len(mail.raw)}}}\r\n".encode())
            writer.write(mail.raw + b")\r\n")
        elif sub == "STORE" and "\\Seen" in what:
            mail.flags.add("\\Seen")
            writer.write(f"* {index} FETCH (UID {mail.uid} FLAGS (\\Seen))\r\n".encode())

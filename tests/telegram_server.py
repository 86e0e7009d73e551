"""A Telegram Bot API stand-in for tests, on loopback: no test ever talks to api.telegram.org.

It speaks the Bot API the way python-telegram-bot uses it: POST (or GET) to
/bot{token}/{method} with parameters in the query string, a urlencoded or multipart form
(non-string values JSON-encoded) or a JSON body, answered with Telegram's envelope
{"ok": true, "result": ...} or {"ok": false, "error_code": ..., "description": ...}.
Files download from /file/bot{token}/{file_path}.

The module-level *_update helpers build updates exactly as Telegram delivers them, so
`telegram.Update.de_json(update, bot)` accepts them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

BOT_ID = 123456
BOT_USERNAME = "tolk_test_bot"
BOT_FIRST_NAME = "Tolk"
# Starts like a JPEG (FF D8 FF), as the bot reads a file's type from its first bytes.
FILE_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00fake-jpeg"
# A user id for group messages, where the chat id (negative) cannot double as the user's.
GROUP_USER_ID = 4242
MAX_TEXT_LENGTH = 4096

# Parameters whose values PTB sends as plain strings. Everything else arrives JSON-encoded,
# but a text like "42" or "true" must not be decoded into a number or a bool.
_STRING_PARAMS = frozenset(
    {
        "action",
        "address",
        "animation",
        "audio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "custom_emoji_id",
        "description",
        "document",
        "emoji",
        "file_id",
        "first_name",
        "inline_message_id",
        "ip_address",
        "language_code",
        "last_name",
        "message_effect_id",
        "name",
        "parse_mode",
        "photo",
        "query",
        "question",
        "secret_token",
        "short_description",
        "sticker",
        "text",
        "thumbnail",
        "title",
        "url",
        "video",
        "video_note",
        "voice",
    }
)
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND = re.compile(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?")
# Update helpers draw message ids from here, so messages in one test never share an id.
_message_ids = itertools.count(1)


@dataclass
class FakeTelegram:
    """The Bot API methods Tolk's Telegram channel uses; records what it got, fails on demand.

    State to feed or inspect:
      pending: updates waiting for getUpdates (append update dicts; an offset drops older ones)
      requests: every request in arrival order, {"method": ..., "params": {...}}
      get_updates_calls: the parameters of each getUpdates call
      sent: each accepted sendMessage, {"chat_id", "text", "reply_markup", "parse_mode"}
      webhooks: the parameters of each accepted setWebhook
      answered: the parameters of each answerCallbackQuery
      downloads: the file_path of each file download
      files: file_id -> (file_path, content) for files other than the default JPEG
      fail_next: injected errors, see `_injected_failure`
    """

    token: str = "123456:TEST-TOKEN"
    bot_id: int = BOT_ID
    username: str = BOT_USERNAME
    file_bytes: bytes = FILE_BYTES
    # Telegram holds a long poll for up to `timeout` seconds; tests cannot wait that long.
    max_poll_wait: float = 1.0
    pending: list[dict] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    get_updates_calls: list[dict] = field(default_factory=list)
    sent: list[dict] = field(default_factory=list)
    webhooks: list[dict] = field(default_factory=list)
    answered: list[dict] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    fail_next: list[dict] = field(default_factory=list)
    # "" when no webhook is set; while one is, getUpdates answers 409 as Telegram does.
    webhook_url: str = ""
    allowed_updates: list[str] = field(default_factory=list)
    _sent_ids: itertools.count = field(
        default_factory=lambda: itertools.count(1), init=False, repr=False
    )

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._file)
        return app

    def bot_user(self) -> dict:
        """The bot as a User object, as it appears in getMe and in the bot's own messages."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": self.username,
        }

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        self.requests.append({"method": method, "params": params})
        if request.match_info["token"] != self.token:
            return _error(HTTPStatus.UNAUTHORIZED, "Unauthorized")
        failure = self._injected_failure(method)
        if failure is not None:
            return failure
        # Telegram matches method names case-insensitively.
        handler = self._methods().get(method.lower())
        if handler is None:
            return _error(HTTPStatus.NOT_FOUND, "Not Found")
        return await handler(params)

    def _methods(self) -> dict:
        return {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "answercallbackquery": self._answer_callback_query,
            "getfile": self._get_file,
            "sendchataction": self._send_chat_action,
        }

    def _injected_failure(self, method: str) -> web.Response | None:
        """Pop and render fail_next[0] when it is meant for `method` (or has no "method").

        An entry: {"method": "sendMessage", "error_code": 429, "description": "...",
        "retry_after": 1}; "migrate_to_chat_id" also goes into `parameters`, and "body"
        (a string) replaces the JSON envelope, like the HTML page nginx serves on a 502.
        """
        if not self.fail_next:
            return None
        wanted = self.fail_next[0].get("method")
        if wanted is not None and wanted.lower() != method.lower():
            return None
        failure = self.fail_next.pop(0)
        status = int(failure.get("error_code", HTTPStatus.INTERNAL_SERVER_ERROR))
        if "body" in failure:
            return web.Response(status=status, text=failure["body"], content_type="text/html")
        parameters = {
            key: failure[key] for key in ("retry_after", "migrate_to_chat_id") if key in failure
        }
        description = failure.get("description") or HTTPStatus(status).phrase
        return _error(status, description, parameters or None)

    async def _get_me(self, params: dict) -> web.Response:
        return _ok(
            {
                **self.bot_user(),
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            }
        )

    async def _get_updates(self, params: dict) -> web.Response:
        self.get_updates_calls.append(params)
        if self.webhook_url:
            return _error(
                HTTPStatus.CONFLICT,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = float(params.get("timeout") or 0)
        if params.get("allowed_updates") is not None:
            # Like Telegram, the setting sticks until a later call changes it.
            self.allowed_updates = list(params["allowed_updates"])
        if offset is not None:
            self._confirm(int(offset))
        # Poll rather than wait on an event: tests append to `pending` directly.
        deadline = asyncio.get_running_loop().time() + min(timeout, self.max_poll_wait)
        while True:
            updates = self._deliverable()[:limit]
            if updates or asyncio.get_running_loop().time() >= deadline:
                return _ok(updates)
            await asyncio.sleep(0.01)

    def _confirm(self, offset: int) -> None:
        """An offset confirms, and so forgets, every update with a smaller id.

        A negative offset keeps only the last -offset updates, as Telegram documents.
        """
        ordered = sorted(self.pending, key=lambda update: update["update_id"])
        if offset < 0:
            self.pending[:] = ordered[offset:]
        else:
            self.pending[:] = [update for update in ordered if update["update_id"] >= offset]

    def _deliverable(self) -> list[dict]:
        ordered = sorted(self.pending, key=lambda update: update["update_id"])
        if not self.allowed_updates:
            return ordered
        allowed = set(self.allowed_updates)
        return [update for update in ordered if allowed & (update.keys() - {"update_id"})]

    async def _send_message(self, params: dict) -> web.Response:
        chat_id = params.get("chat_id")
        text = params.get("text")
        reply_markup = params.get("reply_markup")
        if chat_id is None or chat_id == "":
            return _error(HTTPStatus.BAD_REQUEST, "Bad Request: chat_id is empty")
        if not isinstance(chat_id, int):
            # The fake knows no usernames, so "@channel" ids resolve to nothing.
            return _error(HTTPStatus.BAD_REQUEST, "Bad Request: chat not found")
        if not isinstance(text, str) or not text.strip():
            return _error(HTTPStatus.BAD_REQUEST, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            return _error(HTTPStatus.BAD_REQUEST, "Bad Request: message is too long")
        if reply_markup is not None and not isinstance(reply_markup, dict):
            return _error(
                HTTPStatus.BAD_REQUEST,
                "Bad Request: can't parse reply keyboard markup JSON object",
            )
        self.sent.append(
            {
                "chat_id": chat_id,
                "text": text,
                "reply_markup": reply_markup,
                "parse_mode": params.get("parse_mode"),
            }
        )
        message = {
            "message_id": next(self._sent_ids),
            "from": self.bot_user(),
            "chat": {"id": chat_id, "type": _chat_type(chat_id)},
            "date": int(time.time()),
            "text": text,
        }
        # Telegram echoes only inline keyboards; a reply keyboard is not part of a Message.
        if reply_markup is not None and "inline_keyboard" in reply_markup:
            message["reply_markup"] = reply_markup
        return _ok(message)

    async def _set_webhook(self, params: dict) -> web.Response:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if url and not url.startswith("https://"):
            return _error(
                HTTPStatus.BAD_REQUEST,
                "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
            )
        if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
            return _error(
                HTTPStatus.BAD_REQUEST, "Bad Request: secret token contains unallowed characters"
            )
        self.webhooks.append(params)
        self.webhook_url = url
        if params.get("drop_pending_updates"):
            self.pending.clear()
        return _ok(True)

    async def _delete_webhook(self, params: dict) -> web.Response:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self.pending.clear()
        return _ok(True)

    async def _get_webhook_info(self, params: dict) -> web.Response:
        return _ok(
            {
                "url": self.webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self.pending),
            }
        )

    async def _answer_callback_query(self, params: dict) -> web.Response:
        if not params.get("callback_query_id"):
            return _error(
                HTTPStatus.BAD_REQUEST, "Bad Request: query is too old or query id is invalid"
            )
        self.answered.append(params)
        return _ok(True)

    async def _get_file(self, params: dict) -> web.Response:
        file_id = params.get("file_id")
        if not file_id:
            return _error(HTTPStatus.BAD_REQUEST, "Bad Request: invalid file_id")
        path, content = self.files.get(file_id, (f"photos/{file_id}.jpg", self.file_bytes))
        return _ok(
            {
                "file_id": file_id,
                "file_unique_id": f"unique-{file_id}",
                "file_size": len(content),
                "file_path": path,
            }
        )

    async def _send_chat_action(self, params: dict) -> web.Response:
        return _ok(True)

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(HTTPStatus.UNAUTHORIZED, "Unauthorized")
        path = request.match_info["file_path"]
        self.downloads.append(path)
        for known_path, content in self.files.values():
            if known_path == path:
                return web.Response(body=content, content_type="application/octet-stream")
        return web.Response(body=self.file_bytes, content_type="image/jpeg")


async def _params(request: web.Request) -> dict:
    """The Bot API reads the query string, a form (urlencoded or multipart) or a JSON body.

    Form and query values are strings, so JSON-encoded ones are decoded; a JSON body is
    already typed. Uploaded files become {"filename", "content_type", "content"}.
    """
    params = _decoded(request.query)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            params.update(body)
        return params
    form = await request.post()
    for name, value in _decoded(form).items():
        params[name] = value
    return params


def _decoded(values: MultiDictProxy) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, web.FileField):
            params[name] = {
                "filename": value.filename,
                "content_type": value.content_type,
                "content": value.file.read(),
            }
            continue
        if isinstance(value, bytes | bytearray):
            # Multipart parts with a non-text content type arrive as raw bytes.
            value = bytes(value).decode("utf-8", "replace")
        if name in _STRING_PARAMS:
            params[name] = value
            continue
        try:
            params[name] = json.loads(value)
        except ValueError:
            params[name] = value
    return params


def _chat_type(chat_id: int) -> str:
    # Telegram's ids: users are positive, basic groups negative, supergroups -100xxxxxxxxxx.
    if chat_id > 0:
        return "private"
    if chat_id <= -1_000_000_000_000:
        return "supergroup"
    return "group"


def _ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, parameters: dict | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": int(status), "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=int(status))


async def serve(aiohttp_server, fake: FakeTelegram) -> str:
    """Start `fake` with pytest-aiohttp's aiohttp_server; its base URL, e.g. http://127.0.0.1:PORT.

    Point python-telegram-bot at it with base_url=f"{url}/bot" and
    base_file_url=f"{url}/file/bot".
    """
    server = await aiohttp_server(fake.app())
    return str(server.make_url("/")).rstrip("/")


# Updates as Telegram sends them.


def user(
    user_id: int, first_name: str = "Sara", language_code: str | None = "fa"
) -> dict[str, Any]:
    """A (human) User object; language_code None leaves it out, as Telegram sometimes does."""
    result: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code is not None:
        result["language_code"] = language_code
    return result


def chat(
    chat_id: int,
    chat_type: str = "private",
    first_name: str = "Sara",
    title: str = "Tolk customers",
) -> dict[str, Any]:
    """A Chat object; groups carry a title, private chats the user's name."""
    if chat_type == "private":
        return {"id": chat_id, "type": chat_type, "first_name": first_name}
    return {"id": chat_id, "type": chat_type, "title": title}


def message(
    chat_id: int,
    *,
    first_name: str = "Sara",
    language_code: str | None = "fa",
    chat_type: str = "private",
    user_id: int | None = None,
    message_id: int | None = None,
    **content: Any,
) -> dict[str, Any]:
    """A Message from a user; `content` adds text, photo, sticker etc. as given."""
    if user_id is None:
        user_id = chat_id if chat_type == "private" else GROUP_USER_ID
    result: dict[str, Any] = {
        "message_id": next(_message_ids) if message_id is None else message_id,
        "from": user(user_id, first_name, language_code),
        "chat": chat(chat_id, chat_type, first_name),
        "date": int(time.time()),
    }
    result.update(content)
    text = content.get("text")
    if isinstance(text, str) and (command := _COMMAND.match(text)):
        # Clients mark a leading /command as an entity; PTB's CommandHandler relies on it.
        result["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
    return result


def text_update(
    update_id: int,
    chat_id: int,
    text: str,
    first_name: str = "Sara",
    language_code: str | None = "fa",
    chat_type: str = "private",
    user_id: int | None = None,
) -> dict[str, Any]:
    """A new text message; a leading /command gets its bot_command entity."""
    return {
        "update_id": update_id,
        "message": message(
            chat_id,
            first_name=first_name,
            language_code=language_code,
            chat_type=chat_type,
            user_id=user_id,
            text=text,
        ),
    }


def group_text_update(
    update_id: int,
    chat_id: int,
    text: str,
    user_id: int = GROUP_USER_ID,
    first_name: str = "Sara",
    language_code: str | None = "fa",
    chat_type: str = "group",
) -> dict[str, Any]:
    """A text message in a group (chat_id should be negative) from user `user_id`."""
    return text_update(update_id, chat_id, text, first_name, language_code, chat_type, user_id)


def edited_text_update(
    update_id: int,
    chat_id: int,
    text: str,
    message_id: int | None = None,
    first_name: str = "Sara",
    language_code: str | None = "fa",
) -> dict[str, Any]:
    """An edit of an earlier text message (edited_message, with edit_date)."""
    edited = message(
        chat_id,
        first_name=first_name,
        language_code=language_code,
        message_id=message_id,
        text=text,
    )
    edited["edit_date"] = edited["date"] + 1
    return {"update_id": update_id, "edited_message": edited}


def callback_update(
    update_id: int,
    chat_id: int,
    data: str,
    first_name: str = "Sara",
    language_code: str | None = "fa",
    message_text: str = "Choose an option",
    message_id: int | None = None,
    query_id: str | None = None,
    bot_id: int = BOT_ID,
    bot_username: str = BOT_USERNAME,
) -> dict[str, Any]:
    """A press on an inline button `data` under a message the bot sent to `chat_id`."""
    bot_message = {
        "message_id": next(_message_ids) if message_id is None else message_id,
        "from": {
            "id": bot_id,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": bot_username,
        },
        "chat": chat(chat_id, first_name=first_name),
        "date": int(time.time()),
        "text": message_text,
        "reply_markup": {"inline_keyboard": [[{"text": data, "callback_data": data}]]},
    }
    return {
        "update_id": update_id,
        "callback_query": {
            "id": query_id or f"cbq-{update_id}",
            "from": user(chat_id, first_name, language_code),
            "message": bot_message,
            "chat_instance": f"instance-{chat_id}",
            "data": data,
        },
    }


def photo_update(
    update_id: int,
    chat_id: int,
    file_id: str = "photo-1",
    caption: str | None = None,
    first_name: str = "Sara",
    language_code: str | None = "fa",
) -> dict[str, Any]:
    """A photo in two sizes, like Telegram's thumbnails, the largest last."""
    photo = [
        {"file_id": f"{file_id}-s", "file_unique_id": f"u-{file_id}-s", "width": 90, "height": 90},
        {"file_id": file_id, "file_unique_id": f"u-{file_id}", "width": 800, "height": 800},
    ]
    content: dict[str, Any] = {"photo": photo}
    if caption is not None:
        content["caption"] = caption
    return {
        "update_id": update_id,
        "message": message(chat_id, first_name=first_name, language_code=language_code, **content),
    }


def sticker_update(
    update_id: int,
    chat_id: int,
    file_id: str = "sticker-1",
    emoji: str = "👍",
    first_name: str = "Sara",
    language_code: str | None = "fa",
) -> dict[str, Any]:
    sticker = {
        "file_id": file_id,
        "file_unique_id": f"u-{file_id}",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
        "emoji": emoji,
    }
    return {
        "update_id": update_id,
        "message": message(
            chat_id, first_name=first_name, language_code=language_code, sticker=sticker
        ),
    }


def voice_update(
    update_id: int,
    chat_id: int,
    file_id: str = "voice-1",
    duration: int = 3,
    first_name: str = "Sara",
    language_code: str | None = "fa",
) -> dict[str, Any]:
    voice = {
        "file_id": file_id,
        "file_unique_id": f"u-{file_id}",
        "duration": duration,
        "mime_type": "audio/ogg",
    }
    return {
        "update_id": update_id,
        "message": message(
            chat_id, first_name=first_name, language_code=language_code, voice=voice
        ),
    }


def document_update(
    update_id: int,
    chat_id: int,
    file_id: str = "document-1",
    file_name: str = "invoice.pdf",
    mime_type: str = "application/pdf",
    caption: str | None = None,
    first_name: str = "Sara",
    language_code: str | None = "fa",
) -> dict[str, Any]:
    document = {
        "file_id": file_id,
        "file_unique_id": f"u-{file_id}",
        "file_name": file_name,
        "mime_type": mime_type,
    }
    content: dict[str, Any] = {"document": document}
    if caption is not None:
        content["caption"] = caption
    return {
        "update_id": update_id,
        "message": message(chat_id, first_name=first_name, language_code=language_code, **content),
    }


def location_update(
    update_id: int,
    chat_id: int,
    latitude: float = 52.3676,
    longitude: float = 4.9041,
    first_name: str = "Sara",
    language_code: str | None = "fa",
) -> dict[str, Any]:
    location = {"latitude": latitude, "longitude": longitude}
    return {
        "update_id": update_id,
        "message": message(
            chat_id, first_name=first_name, language_code=language_code, location=location
        ),
    }

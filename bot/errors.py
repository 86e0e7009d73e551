"""What can go wrong in the gateway, said once: the kinds of failure, not HTTP statuses.

Services raise these; the web layer (bot/http_errors.py) alone turns each kind into a
status and a JSON body, and a channel that cannot answer with a status (Telegram keeps an
update for a retry when the database was unavailable) decides from the kind. Database
errors become StoreUnavailable or StoreConflict at the store boundary (bot/db_errors.py),
so that no service catches a driver's exceptions.

`message` is for people (an agent in the console, a client's developer) and names what to
do; `detail` (the driver's text, say) is for the log only and never leaves the process.
"""

from __future__ import annotations


class TolkError(Exception):
    """A failure the gateway knows how to explain."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:  # what the log shows: the detail too
        return f"{self.message} ({self.detail})" if self.detail else self.message


class NotFound(TolkError):
    """No such thing (ticket, canned reply, file), or none this caller may know of."""


class Gone(NotFound):
    """It existed and was erased (a customer who asked to be forgotten)."""


class Forbidden(TolkError):
    """It exists, but not for this caller (a file of another agent's customer)."""


class Conflict(TolkError):
    """The request clashes with the current state: someone else holds or changed it, or it
    exists already. Reloading and deciding again may help; repeating blindly will not."""


class Rejected(TolkError):
    """The request breaks a rule of the domain (a broken locale file, an agent's name
    taken by the rules): the same request will be refused again."""


class RateLimited(TolkError):
    """Over a limit: allowed again in `wait` seconds; `what` was limited."""

    def __init__(self, wait: float, what: str) -> None:
        super().__init__(f"too many {what}")
        self.wait = wait
        self.what = what


class Unavailable(TolkError):
    """Something the gateway depends on (the database, the translator, Telegram) is down
    or busy: nothing was done, and the same request may work shortly."""


class LimiterUnavailable(Unavailable):
    """The shared store of rate limits (Redis, bot/redis_limiter.py) does not answer, so
    nothing can be counted. Customers' limits then count per replica instead
    (`FallbackRateLimiter`); the console login refuses (503) rather than guess unlimited."""

    MESSAGE = (
        "limits cannot be checked right now (their shared store is unreachable); "
        "please retry shortly"
    )

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(self.MESSAGE, detail=detail)


class UpstreamFailed(Unavailable):
    """Something the gateway depends on answered, but with an error (Telegram refused to
    give a file)."""


class StoreUnavailable(Unavailable):
    """The database is locked, busy or unreachable; nothing was written.

    Takes the driver's text (for the log); the message for people is always the same.
    """

    MESSAGE = "the message store is busy or unavailable; please retry shortly"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(self.MESSAGE, detail=detail)


class StoreConflict(Conflict):
    """The database refused a write for one of its constraints: a unique key another
    request took first (two deliveries of one message, two "/human" at once), or a row
    erased meanwhile. Where that is an expected race the store catches Conflict."""

    MESSAGE = "this changed meanwhile; reload and try again"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(self.MESSAGE, detail=detail)


class SchemaNotCurrent(TolkError):
    """The database is not at the schema this version needs (bot/migrations/): it must be
    upgraded once, by one process (`python -m bot db upgrade`), before the service starts."""

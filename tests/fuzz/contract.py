"""What every answer of the service must be, checked on every fuzzing request.

- never a 5xx other than a JSON 503;
- a status that docs/openapi.yaml lists for the route, with a body of the documented shape;
- never slower than one second.

`Client` sends a request, times it, checks the answer and keeps the figures (requests,
5xx, slowest) that the test run reports.

The service runs in this process (tests/fuzz/service.py), so a slow answer can be the
process's fault rather than the input's: in full `make test` runs a GET answered 404 once
took 3.5 s, and never again when replayed. A slow GET is therefore timed once more, and
fails only when it is slow again (a slow input is slow every time); the stacks of every
thread, taken when the first try passed the limit, go into the failure message.
"""

from __future__ import annotations

import faulthandler
import json
import tempfile
import time
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from urllib.parse import quote

import requests
import yaml
from jsonschema import Draft202012Validator

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
SLOWEST_ALLOWED = 1.0
# A request still unanswered then counts as a freeze (and the next one may be slow too).
GIVE_UP = 5.0
# Timing again changes nothing on the server for these.
RETIMED_METHODS = frozenset({"GET", "HEAD"})


class Contract:
    """The response schemas of docs/openapi.yaml."""

    def __init__(self, path: Path = OPENAPI) -> None:
        self.spec = yaml.safe_load(path.read_text(encoding="utf-8"))

    def _pointed(self, ref: str) -> object:
        """What a local `$ref` ("#/components/...") names in the document."""
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are used in docs/openapi.yaml: {ref}")
        node: object = self.spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def _resolved(self, node: dict) -> dict:
        while "$ref" in node:
            node = self._pointed(node["$ref"])
        return node

    def _inlined(self, node: object, depth: int = 0) -> object:
        """The schema with every `$ref` replaced by what it names (our schemas are not
        recursive), so that validating needs no resolver: jsonschema's RefResolver is
        deprecated and its successor differs between the two environments' releases."""
        if depth > 64:
            raise ValueError("docs/openapi.yaml: references nested too deeply (a cycle?)")
        if isinstance(node, dict):
            if "$ref" in node:
                return self._inlined(self._pointed(node["$ref"]), depth + 1)
            return {key: self._inlined(value, depth + 1) for key, value in node.items()}
        if isinstance(node, list):
            return [self._inlined(item, depth + 1) for item in node]
        return node

    def media_types(self, route: str, method: str, status: int) -> list[str]:
        """The content types documented for this answer ([] when none or undocumented)."""
        operation = self.spec["paths"].get(route, {}).get(method.lower(), {})
        documented = operation.get("responses", {}).get(str(status))
        return list(self._resolved(documented).get("content", {})) if documented else []

    def problems(self, route: str, method: str, status: int, body: object) -> list[str]:
        """What is wrong with this answer on this route, per the document."""
        operation = self.spec["paths"].get(route, {}).get(method.lower())
        if operation is None:
            return [f"{method} {route} is not in docs/openapi.yaml"]
        documented = operation["responses"].get(str(status))
        if documented is None:
            return [f"status {status} is not documented for {method} {route}"]
        content = self._resolved(documented).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        if schema is None:
            return []
        validator = Draft202012Validator(self._inlined(schema))
        return [
            f"{'/'.join(map(str, error.absolute_path)) or 'body'}: {error.message}"
            for error in validator.iter_errors(body)
        ]


@dataclass
class Answer:
    status: int
    headers: dict
    raw: bytes
    seconds: float

    @cached_property
    def json(self) -> object:
        return json.loads(self.raw)


@dataclass
class Figures:
    requests: int = 0
    server_errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    slowest: float = 0.0
    slowest_request: str = ""
    retimed: int = 0  # slow GETs that were fast when timed again

    def count(self, what: str, status: int, seconds: float) -> None:
        self.requests += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status >= 500:
            self.server_errors += 1
        if seconds > self.slowest:
            self.slowest, self.slowest_request = seconds, what

    def summary(self, title: str) -> str:
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        retimed = f"; {self.retimed} slow GETs fast when timed again" if self.retimed else ""
        return (
            f"{title}: {self.requests} requests, {self.server_errors} 5xx, slowest "
            f"{self.slowest * 1000:.0f} ms ({self.slowest_request}); statuses {statuses}"
            f"{retimed}"
        )


class Client:
    """HTTP to the service, each answer checked against the contract and timed."""

    def __init__(self, base_url: str, contract: Contract, figures: Figures) -> None:
        self.base_url = base_url
        self.contract = contract
        self.figures = figures
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()

    def call(
        self,
        method: str,
        route: str,
        *,
        path: dict[str, str] | None = None,
        body: bytes | None = None,
        content_type: str | None = "application/json",
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        session: requests.Session | None = None,
    ) -> Answer:
        url = self.base_url + route.format(
            **{k: quote(v, safe="") for k, v in (path or {}).items()}
        )
        sent_headers = dict(headers or {})
        if content_type is not None:
            sent_headers["Content-Type"] = content_type
        what = f"{method} {url.removeprefix(self.base_url)[:80]} ({len(body or b'')} bytes)"
        send = partial(self._send, method, url, what, body, sent_headers, cookies, params, session)
        answer, stacks = send()
        if answer.seconds >= SLOWEST_ALLOWED and method in RETIMED_METHODS:
            again, _ = send()
            if again.seconds < SLOWEST_ALLOWED:
                self.figures.retimed += 1
                answer = again
        self.figures.count(what, answer.status, answer.seconds)
        self._check(method, route, what, answer, stacks)
        return answer

    def _send(
        self,
        method: str,
        url: str,
        what: str,
        body: bytes | None,
        headers: dict[str, str],
        cookies: dict[str, str] | None,
        params: dict[str, str] | None,
        session: requests.Session | None,
    ) -> tuple[Answer, str]:
        """The answer, and every thread's stack if it took longer than allowed."""
        with tempfile.TemporaryFile("w+") as stacks:
            faulthandler.dump_traceback_later(SLOWEST_ALLOWED, file=stacks)
            start = time.perf_counter()
            try:
                response = (session or self.session).request(
                    method,
                    url,
                    data=body,
                    headers=headers,
                    cookies=cookies,
                    params=params,
                    timeout=GIVE_UP,
                    allow_redirects=False,
                )
            except requests.Timeout:
                self.figures.count(what, 0, time.perf_counter() - start)
                sent = (body or b"")[:200]
                raise AssertionError(f"{what}: no answer within {GIVE_UP} s: {sent!r}") from None
            finally:
                faulthandler.cancel_dump_traceback_later()
            seconds = time.perf_counter() - start
            stacks.seek(0)
            dumped = stacks.read()
        answer = Answer(response.status_code, dict(response.headers), response.content, seconds)
        return answer, dumped

    def _check(self, method: str, route: str, what: str, answer: Answer, stacks: str) -> None:
        shown = answer.raw[:300]
        assert answer.status < 500 or answer.status == 503, f"{what}: {answer.status} {shown!r}"
        given = answer.headers.get("Content-Type", "")
        documented = self.contract.media_types(route, method, answer.status)
        if documented and "application/json" not in documented:  # /metrics: text
            assert given.split(";")[0].strip() in documented, f"{what}: {given} {shown!r}"
            assert answer.seconds < SLOWEST_ALLOWED, f"{what}: took {answer.seconds:.2f} s"
            return
        assert given.startswith("application/json"), (
            f"{what}: {answer.status} is not JSON: {given} {shown!r}"
        )
        try:
            body = answer.json
        except ValueError:
            raise AssertionError(f"{what}: {answer.status} with a body that is not JSON") from None
        problems = self.contract.problems(route, method, answer.status, body)
        assert not problems, f"{what}: {answer.status} {shown!r}: {problems}"
        assert answer.seconds < SLOWEST_ALLOWED, (
            f"{what}: took {answer.seconds:.2f} s; the threads then:\n{stacks[-6000:]}"
        )


def encoded(value: object) -> bytes:
    """JSON as a client would send it; lone surrogates travel as \\udXXX escapes."""
    return json.dumps(value).encode()

"""The leads' dashboard routes: the report's figures as JSON and CSV, its charts as PNG,
for a period, language and channel; agents only."""

from __future__ import annotations

import csv
import io

import pytest

from bot.appkeys import GATEWAY
from bot.metrics.api import _cell
from bot.metrics.report import CHART_FILES

CUSTOMERS = [
    ("en-1", "where is my parcel?"),
    ("en-2", "how long does shipping take to Germany?"),
    ("nl-1", "hallo, waar blijft mijn pakket? ik wacht al een week"),
]


@pytest.fixture
async def token(client) -> str:
    agents = client.app[GATEWAY].handoff.agents
    new = await agents.add("Lead", ("en",), password="a password", role="lead")
    for sender, text in CUSTOMERS:
        response = await client.post("/api/v1/messages", json={"sender": sender, "text": text})
        assert response.status == 200
    return new.token


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_only_leads_read_the_dashboard(client, token):
    agent = await client.app[GATEWAY].handoff.agents.add("Daan", ("nl",), password="a password")
    for path in ("", ".csv", "/charts/rates.png"):
        response = await client.get(f"/api/v1/agent/dashboard{path}", headers=bearer(agent.token))
        assert response.status == 403
        assert "only a lead may read the dashboard" in (await response.json())["error"]
    await client.app[GATEWAY].handoff.agents.set_role("Daan", "lead")
    response = await client.get("/api/v1/agent/dashboard", headers=bearer(agent.token))
    assert response.status == 200


def value_of(body: dict, figure: str) -> str:
    return next(row["value"] for row in body["rows"] if row["figure"] == figure)


async def test_figures_for_a_period_and_a_language(client, token):
    everything = await (await client.get("/api/v1/agent/dashboard", headers=bearer(token))).json()
    assert value_of(everything, "Volume: messages / sessions") == "3 / 3"
    assert value_of(everything, "language nl") == "1"
    assert {"en", "nl"} <= set(everything["languages"]) and "rest" in everything["channels"]
    assert everything["charts"] == list(CHART_FILES)

    response = await client.get(
        "/api/v1/agent/dashboard?since=1d&language=nl", headers=bearer(token)
    )
    dutch = await response.json()
    assert value_of(dutch, "Volume: messages / sessions") == "1 / 1"
    assert "language nl" in dutch["period"] and dutch["language"] == "nl"


async def test_csv_export_has_every_row(client, token):
    response = await client.get("/api/v1/agent/dashboard.csv?channel=rest", headers=bearer(token))
    assert response.status == 200 and response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(await response.text())))
    assert table[0] == ["figure", "value", "basis", "period"]
    shown = await (
        await client.get("/api/v1/agent/dashboard?channel=rest", headers=bearer(token))
    ).json()
    assert [row[0] for row in table[1:]] == [row["figure"] for row in shown["rows"]]
    assert all("channel rest" in row[3] for row in table[1:])


def test_a_csv_cell_is_never_a_formula():
    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and _cell("@x") == "'@x"
    assert _cell("3 of 4") == "3 of 4"


async def test_charts_are_pngs_and_follow_the_filters(client, token):
    drawn = {}
    for language in ("", "nl"):
        response = await client.get(
            f"/api/v1/agent/dashboard/charts/{CHART_FILES[1]}?language={language}",
            headers=bearer(token),
        )
        assert response.status == 200 and response.content_type == "image/png"
        drawn[language] = await response.read()
        assert drawn[language].startswith(b"\x89PNG\r\n\x1a\n")
    assert drawn[""] != drawn["nl"]


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/api/v1/agent/dashboard?since=forever", 400, "`since`"),
        ("/api/v1/agent/dashboard?since=0d", 400, "`since`"),
        ("/api/v1/agent/dashboard?language=" + "x" * 40, 400, "such as nl"),
        ("/api/v1/agent/dashboard/charts/rates.png?channel=%24x%5E2%24", 400, "such as web"),
        ("/api/v1/agent/dashboard/charts/..%2Fetc%2Fpasswd", 404, "no chart"),
        ("/api/v1/agent/dashboard/charts/nothing.png", 404, "charts are"),
    ],
)
async def test_wrong_requests_say_why(client, token, path, status, says):
    response = await client.get(path, headers=bearer(token))
    assert response.status == status
    assert says in (await response.json())["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/agent/dashboard",
        "/api/v1/agent/dashboard.csv",
        f"/api/v1/agent/dashboard/charts/{CHART_FILES[0]}",
    ],
)
async def test_strangers_get_nothing(client, token, path):
    assert (await client.get(path)).status == 401
    assert (await client.get(path, headers=bearer("not-a-token"))).status == 401

"""The bureau's dashboard in a real browser (Debian's chromium driven by Playwright): log in, KPI cards
equal the API's figures, change the range, drill into a district, download the ledger, screenshot."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from fazhizhen.app import create_app
from fazhizhen.db.pool import connect
from fazhizhen.services import demo
from fazhizhen.settings import Settings

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("FAZHIZHEN_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "e2e"
MARKUP = '<b id="pwned">新区</b>'
VENDOR = Path(__file__).resolve().parents[2] / "fazhizhen" / "web" / "static" / "vendor" / "echarts.min.js"

try:
    from playwright.async_api import Page, async_playwright
except ImportError:  # pragma: no cover - dev extras always install it
    async_playwright = None  # type: ignore[assignment]


def _skip_reason() -> str | None:
    if async_playwright is None:
        return "playwright is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: .ci/run installs Debian's chromium with apt; it could not here"
    return None


@pytest.fixture
async def server(settings: Settings, db_dsn: str) -> AsyncIterator[TestServer]:
    """The real app on a local port over a database holding the demo city and a week of questions."""
    conn = await connect(db_dsn)
    try:
        await demo.load_demo(conn, settings, days=7, per_day=12, seed=3)
        # a place whose name is markup: it must show as text, never become an element
        await conn.execute(f"INSERT INTO districts (name) VALUES ('{MARKUP}')")
    finally:
        await conn.close()
    srv = TestServer(create_app(settings), host="127.0.0.1")
    await srv.start_server()
    try:
        yield srv
    finally:
        await srv.close()


async def _api(srv: TestServer, token: str, path: str, **params: Any) -> Any:
    async with (
        ClientSession() as s,
        s.get(str(srv.make_url("/api/v1" + path)), params=params, headers={"Authorization": f"Bearer {token}"}) as r,
    ):
        assert r.status == 200, await r.text()
        return await r.json()


async def _loaded(page: Page, before: str | None) -> str:
    """Wait until the page finished a (new) load of its figures; return the load's stamp."""
    await page.wait_for_function(
        "b => document.body.dataset.loaded && document.body.dataset.loaded !== b && !document.body.dataset.loading",
        arg=before,
    )
    return str(await page.evaluate("document.body.dataset.loaded"))


async def _cards(page: Page) -> dict[str, dict[str, str]]:
    return dict(
        await page.evaluate(
            """() => Object.fromEntries([...document.querySelectorAll('[data-kpi]')].map(
                   c => [c.dataset.kpi, {value: c.dataset.value, text: c.querySelector('.value').textContent}]))"""
        )
    )


def _same(cards: dict[str, dict[str, str]], summary: dict[str, Any]) -> None:
    """Each card carries the API's number and shows it formatted (percent, minutes) to its last digit."""
    for key in ("questions", "avg_response_seconds", "p90_response_seconds", "within_sla_rate",
                "escalation_rate", "adoption_rate", "satisfaction_rate"):  # fmt: skip
        want = summary[key]
        got = cards[key]
        assert got["value"] == ("" if want is None else str(want)), key
        if key == "questions":
            assert got["text"] == str(want)
        elif key.endswith("_seconds"):
            assert float(got["text"].removesuffix(" 分钟")) == pytest.approx(want / 60, abs=0.051), key
        else:
            assert float(got["text"].removesuffix("%")) == pytest.approx(want * 100, abs=0.051), key


async def test_dashboard_in_chromium(server: TestServer) -> None:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    if not VENDOR.exists():
        pytest.skip(f"{VENDOR} is missing: run `make test` (it runs npm ci and copies ECharts there)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = str(server.make_url("")).rstrip("/")
    outside: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            context = await browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
            page = await context.new_page()

            async def only_this_origin(route: Any) -> None:
                if route.request.url.startswith(base):
                    await route.continue_()
                else:  # the page must work offline: no CDN, no third party
                    outside.append(route.request.url)
                    await route.abort()

            await page.route("**/*", only_this_origin)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))

            # 1. the login page first, then the demo's bureau account
            await page.goto(base + "/dashboard")
            await page.wait_for_selector("#login-form", state="visible")
            await page.fill("#login-username", demo.BUREAU_USER)
            await page.fill("#login-password", demo.DEMO_PASSWORD)
            await page.click("#login-submit")
            stamp = await _loaded(page, None)
            token = await page.evaluate("sessionStorage.getItem('fazhizhen.bureau.token')")
            assert token and token not in page.url

            # 2. KPI cards show the API's numbers for the same range
            d_from, d_to = await page.input_value("#from"), await page.input_value("#to")
            summary = await _api(server, token, "/metrics/summary", **{"from": d_from, "to": d_to})
            assert summary["questions"] == 84
            _same(await _cards(page), summary)
            assert await page.locator("#chart-daily canvas").count() == 1  # ECharts drew
            assert MARKUP in (await page.text_content("#places") or "")
            goal = await _api(server, token, "/metrics/levels/breakdown", **{"from": d_from, "to": d_to})
            share = f"{goal['total']['ab_share'] * 100:.1f}%"
            assert share in (await page.text_content("#levels-goal") or "")
            assert "A+B 占比（目标 90%）" in (await page.text_content("#places thead") or "")
            assert await page.locator("#pwned").count() == 0

            # 3. another range
            week_ago = (date.fromisoformat(d_to) - timedelta(days=3)).isoformat()
            await page.fill("#from", week_ago)
            await page.click("#apply")
            stamp = await _loaded(page, stamp)
            _same(await _cards(page), await _api(server, token, "/metrics/summary", **{"from": week_ago, "to": d_to}))

            # 4. drill into the first district of the table
            first = page.locator("#places tbody button.drill").first
            name = await first.text_content()
            district_id = await page.locator("#places tbody tr").first.get_attribute("data-place")
            await first.click()
            stamp = await _loaded(page, stamp)
            assert name in (await page.text_content("#crumbs") or "")
            assert await page.text_content("#places-title") == "各街道情况"
            by_district = await _api(
                server, token, "/metrics/summary", **{"from": week_ago, "to": d_to, "district_id": district_id}
            )
            _same(await _cards(page), by_district)

            # 5. the ledger downloads as UTF-8 CSV with a BOM and Chinese headers
            async with page.expect_download() as info:
                await page.click("#export-csv")
            download = await info.value
            saved = ARTIFACTS / "ledger.csv"
            await download.save_as(saved)
            raw = saved.read_bytes()
            assert raw.startswith("\ufeff编号,提问时间".encode())

            # 6. the screenshot CI keeps
            await page.click("#crumbs button >> nth=0")
            await _loaded(page, stamp)
            await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
            assert not errors, errors
        finally:
            await browser.close()
    assert outside == []

"""GraphiQL in a real browser: headless Chromium against a running server, on both databases.

The page and its assets come from the server alone (api/graphiql.html, api/static/graphiql/):
Chromium can reach nothing but loopback, every request the page makes is checked, and an
error in the console fails the test. Debian's chromium and chromium-driver drive it through
Selenium with the system /usr/bin/chromedriver (Selenium Manager never runs, nothing is
downloaded). Without them the test skips with the reason; under CI=true it fails instead
(.ci/run installs them). Each step's screenshot is saved in the test's tmp dir.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.selenium_manager import SeleniumManager
from selenium.webdriver.support.ui import WebDriverWait

from api.runtime import Runtime
from tests.api.live_support import Servers, http_client
from tests.conftest import IN_CI
from tests.support import Api

README = Path(__file__).resolve().parents[2] / "README.md"
# What a browser may fetch besides the server itself: the fonts inlined in GraphiQL's CSS.
INLINE_SCHEMES = ("data:",)
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
# The variables and headers editors share one tool pane; the one shown is not `.hidden`.
HEADERS_EDITOR = 'section[aria-label="Headers"] .graphiql-editor:not(.hidden) .CodeMirror'
RESULT = ".result-window .CodeMirror"
RUN_BUTTON = ".graphiql-execute-button"
WAIT = 20


def readme_wallet_query() -> str:
    """The query the README tells a reader to paste into GraphiQL (loyalty.js preloads it)."""
    text = README.read_text(encoding="utf-8")
    after = text[text.index("Paste one into GraphiQL") :]
    found = re.search(r"```graphql\n(.*?)```", after, re.DOTALL)
    assert found, "README lost its GraphiQL wallet query"
    return found.group(1)


def browser_or_skip() -> tuple[str, str]:
    """(chromium, chromedriver): Debian's packages, both from the system."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    problem = "Chromium and its driver are not installed (apt-get install chromium chromium-driver)"
    if IN_CI:
        pytest.fail(problem)
    pytest.skip(problem + " (CI fails instead of skipping)")


def _no_selenium_manager(*_: Any, **__: Any) -> Any:
    raise AssertionError("Selenium Manager was asked for a driver: it must use the system one")


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    """One headless Chromium for the module, able to reach loopback only."""
    chromium, driver = browser_or_skip()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        # root in a container has no user namespaces for Chromium's sandbox
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        # Any host name but 127.0.0.1 fails to resolve, and anything else not on loopback
        # goes to a proxy that is not there (loopback bypasses proxies): a CDN fails.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
    ):
        options.add_argument(argument)
    # the console, and the DevTools network events that name every request the page makes
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SeleniumManager, "binary_paths", _no_selenium_manager)
        chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    try:
        yield chrome
    finally:
        chrome.quit()


@pytest_asyncio.fixture(scope="module")
async def servers() -> AsyncIterator[Servers]:
    async with contextlib.AsyncExitStack() as stack:
        yield Servers(stack)


@pytest_asyncio.fixture
async def live(runtime: Runtime, program: str, servers: Servers) -> AsyncIterator[Api]:
    server_runtime, host = await servers.serving(runtime)
    async with http_client(host) as client:
        yield Api(client=client, runtime=server_runtime, program=program)


class GraphiQLPage:
    """The GraphiQL page in the browser: the editors' text, the console and the requests."""

    def __init__(self, driver: webdriver.Chrome, origin: str, shots: Path) -> None:
        self.driver, self.origin, self.shots = driver, origin, shots
        self.console: list[dict[str, Any]] = []
        self.requests: list[str] = []
        self.failures: list[str] = []
        self.collect()  # what earlier pages logged is not this page's

    def open(self) -> None:
        self.driver.get(f"{self.origin}/graphql")
        WebDriverWait(self.driver, WAIT).until(
            lambda _: self.text(QUERY_EDITOR), "GraphiQL's query editor did not render"
        )

    def text(self, selector: str) -> str | None:
        """The text of the CodeMirror editor at `selector` (None until there is exactly one)."""
        return self.driver.execute_script(
            "const found = document.querySelectorAll(arguments[0]);"
            "return found.length === 1 ? found[0].CodeMirror.getValue() : null;",
            selector,
        )

    def shown(self, selector: str) -> str:
        """What the page shows of the element at `selector`."""
        return str(self.driver.find_element(By.CSS_SELECTOR, selector).text)

    def type_over(self, selector: str, old: str, new: str) -> None:
        """Select `old` in the editor at `selector` and type `new` over it with the keyboard."""
        found = self.driver.execute_script(
            "const cm = document.querySelector(arguments[0]).CodeMirror;"
            "const at = cm.getValue().indexOf(arguments[1]);"
            "if (at < 0) return false;"
            "cm.focus();"
            "cm.setSelection(cm.posFromIndex(at), cm.posFromIndex(at + arguments[1].length));"
            "return true;",
            selector,
            old,
        )
        assert found, f"{old!r} is not in {self.text(selector)!r}"
        ActionChains(self.driver).send_keys(new).perform()

    def run(self) -> dict[str, Any]:
        """Press the run button; the result pane's JSON once it has one."""
        self.driver.find_element(By.CSS_SELECTOR, RUN_BUTTON).click()
        WebDriverWait(self.driver, WAIT).until(
            lambda _: self.text(RESULT), "no result appeared after running the query"
        )
        return json.loads(self.text(RESULT) or "")

    def screenshot(self, step: str) -> None:
        path = self.shots / f"{step}.png"
        assert self.driver.save_screenshot(str(path))
        print(f"GraphiQL screenshot ({step}): {path}")

    def collect(self) -> None:
        """Read the browser's console and network logs so far."""
        self.console += self.driver.get_log("browser")
        for entry in self.driver.get_log("performance"):
            event = json.loads(entry["message"])["message"]
            if event["method"] == "Network.requestWillBeSent":
                self.requests.append(event["params"]["request"]["url"])
            elif event["method"] == "Network.loadingFailed":
                params = event["params"]
                self.failures.append(f"{params.get('type')}: {params['errorText']}")

    def assert_clean(self) -> None:
        """Nothing but the server was asked for anything, nothing failed, no console errors."""
        self.collect()
        assert self.requests, "the network log is empty: the checks below would prove nothing"
        elsewhere = [
            url
            for url in self.requests
            if not url.startswith(INLINE_SCHEMES)
            and f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" != self.origin
        ]
        assert elsewhere == [], f"requests outside {self.origin}: {elsewhere}"
        assert self.failures == [], f"failed requests: {self.failures}"
        errors = [entry for entry in self.console if entry["level"] == "SEVERE"]
        assert errors == [], f"browser console errors: {errors}"


@pytest.mark.asyncio
async def test_graphiql_runs_the_wallet_query_offline_with_a_member_token(
    live: Api, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    # given a member with points and GraphiQL opened from the server, offline
    member = await live.enroll("alice")
    await live.adjust(member["id"], 4321, "browser-graphiql")
    token = live.member("alice")
    origin = str(live.client.base_url).rstrip("/")
    page = await asyncio.to_thread(GraphiQLPage, browser, origin, tmp_path)
    await asyncio.to_thread(page.open)
    await asyncio.to_thread(page.screenshot, "1-opened")

    # then it shows the README's wallet query and the Authorization header template
    assert await asyncio.to_thread(page.text, QUERY_EDITOR) == readme_wallet_query()
    template = await asyncio.to_thread(page.text, HEADERS_EDITOR)
    assert json.loads(template or "") == {"Authorization": "Bearer <token>"}
    assert "wallet { balance pending" in await asyncio.to_thread(page.shown, QUERY_EDITOR)

    # when the member's token is typed into the header and the query is run
    await asyncio.to_thread(page.type_over, HEADERS_EDITOR, "<token>", token)
    headers = await asyncio.to_thread(page.text, HEADERS_EDITOR)
    assert json.loads(headers or "") == {"Authorization": f"Bearer {token}"}
    await asyncio.to_thread(page.screenshot, "2-token")
    result = await asyncio.to_thread(page.run)
    await asyncio.to_thread(page.screenshot, "3-result")

    # then the result pane shows the member's wallet, as the API answers it over HTTP
    assert "errors" not in result, result
    assert result["data"]["me"]["displayName"] == "Alice"
    assert result["data"]["me"]["wallet"]["balance"] == 4321
    assert result["data"] == await live.ok(readme_wallet_query(), token=token)
    assert '"balance": 4321' in await asyncio.to_thread(page.shown, RESULT)
    await asyncio.to_thread(page.assert_clean)

"""A headless-Chromium harness for the pages that ``modelcollapse report`` writes.

:func:`open_page` opens an HTML file from disk in Debian's Chromium (driven by Playwright), waits
for the page contract's ``<body data-report-ready="true">``, and returns a :class:`PageReport`:
every chart (``div.mc-chart``) with whether it rendered and how much it drew, the console's errors
and warnings, uncaught exceptions, dialogs (an ``alert()`` means injected script ran) and every
request that tried to leave the machine (all are blocked: only ``file:``, ``data:``, ``blob:`` and
``about:`` URLs load). ``PageReport.assert_clean()`` and ``PageReport.assert_all_charts_drawn()``
turn those into test failures with messages that say what went wrong::

    from browser import open_page

    def test_report_page(tmp_path):
        report = open_page(tmp_path / "report.html", screenshot=tmp_path / "report.png")
        report.assert_clean()
        report.assert_all_charts_drawn()

One browser is launched per test process, on first use, and closed when the process exits. It
runs in a thread of its own: Playwright's sync API marks its event loop as running in the thread
that drives it, between calls too, so in the main thread ``asyncio.run()`` (nbclient, Dask's
distributed client, ...) would fail with "cannot be called from a running event loop" for as
long as the browser lived. To work with the live page, pass ``inspect=`` a function of the
Playwright ``Page``: it runs in that thread once the page is ready, and its result (or exception)
comes back to the test.

Without Chromium or Playwright the tests skip, saying how to install them, unless
``MODELCOLLAPSE_REQUIRE_BROWSER=1`` (CI sets it), where they fail. ``MODELCOLLAPSE_CHROMIUM``
names the browser to use instead of Debian's ``/usr/bin/chromium``.
"""

from __future__ import annotations

import atexit
import os
import queue
import shutil
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeoutError
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = [
    "CHROMIUM_ENV",
    "DRAWN_SELECTOR",
    "LOCAL_SCHEMES",
    "REQUIRE_ENV",
    "SCREENSHOT_DIR_ENV",
    "Chart",
    "PageReport",
    "find_chromium",
    "open_page",
    "require_chromium",
    "screenshot_path",
]

#: Path (or name on PATH) of the Chromium to use; when set, nothing else is tried.
CHROMIUM_ENV = "MODELCOLLAPSE_CHROMIUM"
#: Set to 1 to turn "no browser" from a skip into a failure (CI does).
REQUIRE_ENV = "MODELCOLLAPSE_REQUIRE_BROWSER"
#: When set, :func:`screenshot_path` puts screenshots there instead of in the test's tmp_path.
SCREENSHOT_DIR_ENV = "MODELCOLLAPSE_SCREENSHOT_DIR"

#: Where to look for Chromium after the environment variable, in order.
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
#: URL schemes a self-contained page may load; anything else is blocked and recorded.
LOCAL_SCHEMES = frozenset({"file", "data", "blob", "about"})
#: What Plotly draws inside a chart's ``svg.main-svg``: traces (scatter, bar, ...) and heatmaps.
#: A chart counts as drawn when at least one of these has a non-zero bounding box.
DRAWN_SELECTOR = ("svg.main-svg g.trace, svg.main-svg .heatmaplayer image,"
                  " svg.main-svg .heatmaplayer g.hm")
#: The page contract's signal that every chart has been drawn (or has failed).
READY_SELECTOR = 'body[data-report-ready="true"]'

LAUNCH_ARGS = (
    "--no-sandbox",  # we run as root, where Chromium refuses to start with its sandbox
    # A second guard behind the request blocking: no host name resolves, so nothing that
    # slipped past the routes could reach the network either.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--disable-background-networking",
)
VIEWPORT = (1280, 900)


# --------------------------------------------------------------------------------------------
# Finding the browser, skip or fail


def find_chromium() -> str | None:
    """The Chromium executable to use, or None.

    ``$MODELCOLLAPSE_CHROMIUM`` when set (a path or a name on PATH; if it does not resolve to an
    executable the answer is None, the other places are not tried), else ``/usr/bin/chromium``,
    ``chromium`` or ``chromium-browser`` on PATH.
    """
    override = os.environ.get(CHROMIUM_ENV)
    if override:
        return shutil.which(override)
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def _unavailable(reason: str) -> None:
    """Skip the test, or fail it when the environment says a browser is required."""
    if os.environ.get(REQUIRE_ENV, "") not in ("", "0"):
        pytest.fail(f"{reason} ({REQUIRE_ENV} is set, so this is a failure, not a skip)",
                    pytrace=False)
    pytest.skip(f"{reason} (set {REQUIRE_ENV}=1 to make this a failure)")


def require_chromium() -> str:
    """The Chromium executable; skips the test (or fails it, see :data:`REQUIRE_ENV`) when
    Chromium or Playwright is missing."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("browser tests need Playwright's Python package: pip install '.[test]' "
                     "(it drives the system Chromium; no `playwright install` is needed)")
    executable = find_chromium()
    if executable is None:
        override = os.environ.get(CHROMIUM_ENV)
        where = (f"{CHROMIUM_ENV}={override!r} is not an executable" if override else
                 "no Chromium at /usr/bin/chromium or as chromium / chromium-browser on PATH")
        _unavailable(f"browser tests need Chromium: {where}; install Debian's with "
                     "`apt-get install chromium` or point "
                     f"{CHROMIUM_ENV} at a Chromium or Chrome executable")
    assert executable is not None
    return executable


def screenshot_path(tmp_path: Path, name: str) -> Path:
    """Where to save a screenshot: ``$MODELCOLLAPSE_SCREENSHOT_DIR/name`` when that is set (to
    keep them after the run), else ``tmp_path/name``."""
    directory = os.environ.get(SCREENSHOT_DIR_ENV)
    base = Path(directory) if directory else tmp_path
    base.mkdir(parents=True, exist_ok=True)
    return base / name


# --------------------------------------------------------------------------------------------
# What a page did


@dataclass
class Chart:
    """One ``div.mc-chart`` as the page left it."""

    id: str
    title: str | None
    #: ``data-rendered="true"`` was set (Plotly's promise resolved).
    rendered: bool
    #: ``data-error``, set when drawing threw.
    error: str | None
    #: Number of ``svg.main-svg`` inside the div.
    svgs: int
    #: Number of elements matching :data:`DRAWN_SELECTOR`, and how many of those have a
    #: non-zero bounding box.
    candidates: int
    drawn: int
    #: Size of the union of the drawn elements' bounding boxes, in CSS pixels.
    width: float
    height: float

    @property
    def name(self) -> str:
        return f"#{self.id}" + (f" ({self.title!r})" if self.title else "")

    def problems(self) -> list[str]:
        """Why this chart does not count as drawn; empty when it does."""
        found = []
        if self.error is not None:
            found.append(f"drawing failed: {self.error}")
        if not self.rendered:
            found.append('never marked data-rendered="true"')
        if self.svgs == 0:
            found.append("no svg.main-svg inside")
        elif self.drawn == 0:
            found.append(f"nothing drawn: none of its {self.candidates} trace/heatmap "
                         "elements has a non-zero bounding box")
        return found


@dataclass
class PageReport:
    """Everything :func:`open_page` saw; the lists keep arrival order."""

    url: str
    #: ``body[data-report-ready="true"]`` appeared before the timeout.
    ready: bool
    charts: list[Chart] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    console_warnings: list[str] = field(default_factory=list)
    #: Uncaught exceptions and unhandled rejections.
    page_errors: list[str] = field(default_factory=list)
    #: ``"alert: 1"`` etc.; every dialog was dismissed.
    dialogs: list[str] = field(default_factory=list)
    #: Every request (and WebSocket) whose scheme is not in :data:`LOCAL_SCHEMES`, ...
    outside_requests: list[str] = field(default_factory=list)
    #: ... and those of them that were aborted before leaving (normally all of them).
    blocked_requests: list[str] = field(default_factory=list)
    #: Why each request that failed did, by URL: Chromium's net error, e.g.
    #: ``net::ERR_BLOCKED_BY_CLIENT.Inspector`` for the blocked ones or
    #: ``net::ERR_FILE_NOT_FOUND`` for a missing local file.
    request_failures: dict[str, str] = field(default_factory=dict)
    #: Windows the page opened besides itself.
    popups: list[str] = field(default_factory=list)
    title: str = ""
    #: ``document.body.innerText`` and the serialized DOM, after the page's scripts ran.
    text: str = ""
    html: str = ""
    screenshot: Path | None = None
    #: What the ``inspect`` function passed to :func:`open_page` returned.
    inspected: Any = None

    def chart(self, chart_id: str) -> Chart:
        for chart in self.charts:
            if chart.id == chart_id:
                return chart
        raise KeyError(f"no chart #{chart_id}; the page has {[c.id for c in self.charts]}")

    def problems(self) -> list[str]:
        """Everything :meth:`assert_clean` objects to, one line each."""
        found = [f"console error: {m}" for m in self.console_errors]
        found += [f"uncaught exception: {m}" for m in self.page_errors]
        found += [f"dialog (script ran): {m}" for m in self.dialogs]
        blocked = set(self.blocked_requests)
        found += [f"outside request ({'blocked' if url in blocked else 'NOT blocked'}): {url}"
                  for url in _unique(self.outside_requests + self.blocked_requests)]
        found += [f"popup window: {url}" for url in self.popups]
        return found

    def assert_clean(self) -> None:
        """No console errors, uncaught exceptions, dialogs, popups or outside requests.
        Console warnings are allowed (they are in :attr:`console_warnings`)."""
        found = self.problems()
        if found:
            raise AssertionError(f"{self.url} is not clean:\n  " + "\n  ".join(found))

    def chart_problems(self, ids: Iterable[str] | None = None) -> list[str]:
        """Everything :meth:`assert_all_charts_drawn` objects to, one line each."""
        if not self.charts:
            return ["the page has no div.mc-chart at all"]
        found = []
        seen = [c.id for c in self.charts]
        duplicates = sorted({i for i in seen if seen.count(i) > 1})
        if duplicates:
            found.append(f"duplicate chart ids: {duplicates}")
        if ids is not None:
            wanted = list(ids)
            missing = [i for i in wanted if i not in seen]
            extra = [i for i in seen if i not in wanted]
            if missing:
                found.append(f"missing charts: {missing}")
            if extra:
                found.append(f"unexpected charts: {extra}")
        for chart in self.charts:
            found += [f"chart {chart.name}: {p}" for p in chart.problems()]
        return found

    def assert_all_charts_drawn(self, ids: Iterable[str] | None = None) -> None:
        """Every chart rendered without error and drew something. With ``ids``, the page's
        charts must be exactly those."""
        found = self.chart_problems(ids)
        if found:
            raise AssertionError(f"{self.url}: not every chart was drawn:\n  "
                                 + "\n  ".join(found))

    def not_ready_message(self, timeout: float) -> str:
        lines = [f"{self.url} did not set {READY_SELECTOR} within {timeout:g} s"]
        if not self.charts:
            lines.append("the page has no div.mc-chart at all")
        for chart in self.charts:
            if not chart.rendered or chart.error is not None:
                lines.append(f"chart {chart.name}: " + "; ".join(chart.problems()))
        lines += self.problems()
        if self.screenshot is not None:
            lines.append(f"screenshot: {self.screenshot}")
        return "\n  ".join(lines)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --------------------------------------------------------------------------------------------
# Opening a page


def open_page(path: Path, *, screenshot: Path | None = None, timeout: float = 60.0,
              viewport: tuple[int, int] = VIEWPORT, settle: float = 0.2,
              inspect: Callable[[Page], Any] | None = None,
              require_ready: bool = True) -> PageReport:
    """Open ``path`` (an HTML file) in headless Chromium and report what it did.

    Waits up to ``timeout`` seconds for ``body[data-report-ready="true"]``, then ``settle``
    seconds more (two animation frames at least) for late errors or requests, then collects
    the charts, saves a full-page ``screenshot`` (PNG, ``viewport`` wide) if asked and calls
    ``inspect(page)`` (in the browser's thread, on a ready page only; its result is
    ``report.inspected``, what it raises is raised here). A page that never gets ready fails
    the test with the charts not rendered and any errors (and still saves the screenshot),
    unless ``require_ready=False``.
    Skips (or fails) when there is no browser, see :func:`require_chromium`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    executable = require_chromium()
    job = _PageJob(url=path.resolve().as_uri(), screenshot=screenshot, timeout=timeout,
                   viewport=viewport, settle=settle, inspect=inspect)
    future = _browser(executable).submit(job.run)
    patience = 2 * timeout + settle + 60  # loading, then waiting for ready, then the rest
    try:
        report = future.result(timeout=patience)
    except FutureTimeoutError:
        pytest.fail(f"the browser did not answer within {patience:g} s opening {job.url}",
                    pytrace=False)
    if require_ready and not report.ready:
        pytest.fail(report.not_ready_message(timeout), pytrace=False)
    return report


_COLLECT_CHARTS = """(selector) => Array.from(document.querySelectorAll("div.mc-chart"), (div) => {
    let left = Infinity, top = Infinity, right = -Infinity, bottom = -Infinity, drawn = 0;
    const candidates = div.querySelectorAll(selector);
    for (const element of candidates) {
        const box = element.getBoundingClientRect();
        if (box.width > 0 || box.height > 0) {
            drawn += 1;
            left = Math.min(left, box.left); top = Math.min(top, box.top);
            right = Math.max(right, box.right); bottom = Math.max(bottom, box.bottom);
        }
    }
    return {
        id: div.id, title: div.dataset.title ?? null, rendered: div.dataset.rendered === "true",
        error: div.dataset.error ?? null, svgs: div.querySelectorAll("svg.main-svg").length,
        candidates: candidates.length, drawn,
        width: drawn ? right - left : 0, height: drawn ? bottom - top : 0,
    };
})"""

_TWO_FRAMES = ("() => new Promise((resolve) => "
               "requestAnimationFrame(() => requestAnimationFrame(resolve)))")


def _is_local(url: str) -> bool:
    return urlsplit(url).scheme.lower() in LOCAL_SCHEMES


@dataclass
class _PageJob:
    """One page visit; :meth:`run` runs in the browser thread."""

    url: str
    screenshot: Path | None
    timeout: float
    viewport: tuple[int, int]
    settle: float
    inspect: Callable[[Page], Any] | None

    def run(self, browser: Browser) -> PageReport:
        from playwright.sync_api import Error as PlaywrightError

        report = PageReport(url=self.url, ready=False)
        width, height = self.viewport
        context = browser.new_context(viewport={"width": width, "height": height},
                                      service_workers="block", accept_downloads=False)
        try:
            self._watch(context, report)
            page = context.new_page()
            page.on("console", lambda message: _record_console(report, message))
            page.on("pageerror", lambda error: report.page_errors.append(
                f"{error.name}: {error.message}" if error.name else error.message))
            page.on("dialog", lambda dialog: _record_dialog(report, dialog))
            context.on("page", lambda popup: report.popups.append(popup.url or "about:blank"))
            ms = self.timeout * 1000
            page.goto(self.url, wait_until="load", timeout=ms)
            try:
                page.wait_for_selector(READY_SELECTOR, state="attached", timeout=ms)
                report.ready = True
            except PlaywrightError:  # TimeoutError, or the page went away
                report.ready = False
            page.evaluate(_TWO_FRAMES)
            page.wait_for_timeout(self.settle * 1000)
            report.charts = [Chart(**c) for c in page.evaluate(_COLLECT_CHARTS, DRAWN_SELECTOR)]
            report.title = page.title()
            report.text = page.evaluate("() => document.body ? document.body.innerText : ''")
            report.html = page.content()
            if self.screenshot is not None:
                self.screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(self.screenshot), full_page=True, animations="disabled")
                report.screenshot = self.screenshot
            if self.inspect is not None and report.ready:
                report.inspected = self.inspect(page)
        finally:
            context.close()
        return report

    @staticmethod
    def _watch(context: Any, report: PageReport) -> None:
        """Abort and record every request and WebSocket that would leave the machine."""

        def route(route: Any) -> None:
            url = route.request.url
            if _is_local(url):
                route.continue_()
            else:
                report.blocked_requests.append(url)
                route.abort("blockedbyclient")

        def route_web_socket(socket: Any) -> None:
            # Never connected to a server: without connect_to_server() the socket is a mock.
            report.outside_requests.append(socket.url)
            report.blocked_requests.append(socket.url)
            socket.close(code=1008, reason="blocked by the test harness")

        def request(request: Any) -> None:
            if not _is_local(request.url):
                report.outside_requests.append(request.url)

        def request_failed(request: Any) -> None:
            report.request_failures[request.url] = request.failure or "failed"

        context.route("**/*", route)
        context.route_web_socket("**/*", route_web_socket)
        context.on("request", request)
        context.on("requestfailed", request_failed)


def _record_console(report: PageReport, message: Any) -> None:
    location = message.location or {}
    where = location.get("url") or ""
    if where:
        where = f" ({where}:{location.get('lineNumber', 0) + 1})"
    if message.type == "error":
        report.console_errors.append(message.text + where)
    elif message.type == "warning":
        report.console_warnings.append(message.text + where)


def _record_dialog(report: PageReport, dialog: Any) -> None:
    report.dialogs.append(f"{dialog.type}: {dialog.message}")
    dialog.dismiss()


# --------------------------------------------------------------------------------------------
# One browser per process, in a thread of its own


class _BrowserThread:
    """Owns Playwright and one Chromium; runs jobs ``f(browser)`` one at a time."""

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self._jobs: queue.Queue[tuple[Callable[[Browser], Any], Future[Any]] | None] = (
            queue.Queue())
        self._started: Future[str] = Future()
        self._thread = threading.Thread(target=self._run, name="modelcollapse-chromium",
                                        daemon=True)
        self._thread.start()

    def wait_started(self, timeout: float = 120) -> str:
        """The browser's version; raises what launching raised."""
        return self._started.result(timeout=timeout)

    def submit(self, job: Callable[[Browser], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        self._jobs.put((job, future))
        return future

    def close(self, timeout: float = 30) -> None:
        self._jobs.put(None)
        self._thread.join(timeout)

    def _launch(self, playwright: Any) -> Browser:
        return playwright.chromium.launch(executable_path=self.executable, headless=True,
                                          args=list(LAUNCH_ARGS))

    def _run(self) -> None:
        from playwright.sync_api import sync_playwright

        try:
            playwright = sync_playwright().start()
        except BaseException as exc:
            self._started.set_exception(exc)
            return
        try:
            try:
                browser = self._launch(playwright)
            except BaseException as exc:
                self._started.set_exception(exc)
                return
            self._started.set_result(browser.version)
            while (item := self._jobs.get()) is not None:
                job, future = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    if not browser.is_connected():  # crashed: start a new one
                        browser = self._launch(playwright)
                    future.set_result(job(browser))
                except BaseException as exc:
                    future.set_exception(exc)
            browser.close()
        finally:
            playwright.stop()


_lock = threading.Lock()
_shared: _BrowserThread | None = None
_launch_error: str | None = None


def _browser(executable: str) -> _BrowserThread:
    """This process's browser thread, started on first use (and again for another
    executable); fails the test when Chromium does not start."""
    global _shared, _launch_error
    with _lock:
        if _shared is not None and _shared.executable != executable:
            _shared.close()
            _shared, _launch_error = None, None
        if _launch_error is not None:
            pytest.fail(_launch_error, pytrace=False)
        if _shared is None:
            candidate = _BrowserThread(executable)
            try:
                candidate.wait_started()
            except Exception as exc:
                _launch_error = (f"Chromium at {executable} did not start under Playwright: "
                                 f"{exc}\nSet {CHROMIUM_ENV} to another Chromium, or check it "
                                 "runs: chromium --headless --no-sandbox --dump-dom about:blank")
                pytest.fail(_launch_error, pytrace=False)
            _shared = candidate
            atexit.register(candidate.close)
        return _shared

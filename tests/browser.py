"""A real headless Chromium for UI tests, driven over the Chrome DevTools Protocol.

Debian's ``chromium`` starts with a fresh user-data dir and ``--remote-debugging-port=0``;
the port it picked is read from ``DevToolsActivePort`` in that dir. One page target is
driven through its websocket (the ``websockets`` package): ``Page.navigate``,
``Runtime.evaluate`` to poll the DOM, ``Page.captureScreenshot`` to save a PNG. The browser
is stopped by its PID. No Selenium, no Playwright: the protocol is small enough to speak.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.request import urlopen

from websockets.sync.client import ClientConnection, connect

#: the flags a CI machine needs: no sandbox (root, containers), no GPU, nothing phoning home
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--no-default-browser-check",
                  "--disable-dev-shm-usage", "--window-size=1400,1000")


class BrowserError(AssertionError):
    """The browser could not start, or the page never showed what was awaited."""


def chromium_binary() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise BrowserError("chromium is not installed: `apt-get install -y chromium` "
                           "(make test installs it)")
    return found


class Chromium:
    """``with Chromium(log_dir) as page:`` a started browser and its first page."""

    def __init__(self, log_dir: Path, *, start_timeout_s: float = 60.0) -> None:
        self.log_dir = log_dir
        self.start_timeout_s = start_timeout_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.profile = Path(tempfile.mkdtemp(prefix="verikg-chromium-"))
        self.ws: ClientConnection | None = None
        self._next_id = 0

    # ---------------------------------------------------------------- lifecycle
    def __enter__(self) -> Chromium:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / "chromium.log").open("wb")
        self.proc = subprocess.Popen(
            [chromium_binary(), *CHROMIUM_FLAGS, "--remote-debugging-port=0",
             "--remote-debugging-address=127.0.0.1", f"--user-data-dir={self.profile}",
             "about:blank"], stdout=log, stderr=subprocess.STDOUT)
        port = self._devtools_port()
        deadline = time.monotonic() + self.start_timeout_s
        page = None
        while page is None:
            with urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as resp:
                targets = json.loads(resp.read())
            page = next((t for t in targets if t.get("type") == "page"), None)
            if page is None:
                if time.monotonic() > deadline:
                    raise BrowserError("chromium opened no page target")
                time.sleep(0.2)
        self.ws = connect(page["webSocketDebuggerUrl"], max_size=64 * 2**20,
                          open_timeout=30)
        self.send("Page.enable")
        self.send("Runtime.enable")
        return self

    def _devtools_port(self) -> int:
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            assert self.proc is not None
            if self.proc.poll() is not None:
                log = (self.log_dir / "chromium.log").read_text(errors="replace")
                raise BrowserError(f"chromium exited ({self.proc.returncode}): {log[-2000:]}")
            if marker.exists():
                first = marker.read_text().splitlines()[:1]
                if first and first[0].strip().isdigit():
                    return int(first[0])
            if time.monotonic() > deadline:
                raise BrowserError(f"chromium wrote no DevToolsActivePort in "
                                   f"{self.start_timeout_s:.0f}s")
            time.sleep(0.1)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.ws is not None:
            self.ws.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # the browser we started, by its PID
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        shutil.rmtree(self.profile, ignore_errors=True)

    # ---------------------------------------------------------------- protocol
    def send(self, method: str, timeout_s: float = 180.0, **params: Any) -> dict[str, Any]:
        """Call ``method`` and return its result (events that arrive meanwhile are skipped)."""
        assert self.ws is not None
        self._next_id += 1
        mine = self._next_id
        self.ws.send(json.dumps({"id": mine, "method": method, "params": params}))
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"{method}: no answer in {timeout_s:.0f}s")
            message = json.loads(self.ws.recv(timeout=left))
            if message.get("id") != mine:
                continue
            if "error" in message:
                raise BrowserError(f"{method}: {message['error']}")
            return dict(message.get("result", {}))

    def goto(self, url: str) -> None:
        self.send("Page.navigate", url=url)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def text(self) -> str:
        return str(self.evaluate("document.body ? document.body.innerText : ''") or "")

    def wait_for(self, expression: str, *, timeout_s: float = 60.0, what: str = "",
                 screenshot: Path | None = None) -> Any:
        """Poll ``expression`` until it is truthy; on timeout save a screenshot (if a path is
        given) and fail with the page's text, so the failure shows what the page did show."""
        deadline = time.monotonic() + timeout_s
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                if screenshot is not None:
                    self.screenshot(screenshot)
                raise BrowserError(f"waited {timeout_s:.0f}s for {what or expression}; the "
                                   f"page shows:\n{self.text()[:3000]}")
            time.sleep(0.5)

    def wait_for_text(self, *needles: str, timeout_s: float = 60.0,
                      screenshot: Path | None = None) -> None:
        """Wait until the page's visible text holds every one of ``needles``."""
        probe = " && ".join(f"document.body.innerText.includes({json.dumps(n)})"
                            for n in needles)
        self.wait_for(f"!!document.body && ({probe})", timeout_s=timeout_s,
                      what=f"text {list(needles)}", screenshot=screenshot)

    def screenshot(self, path: Path, *, full_page: bool = False, attempts: int = 3,
                   attempt_timeout_s: float = 20.0) -> Path:
        """Save a PNG of the page.

        Headless Chromium answers ``Page.captureScreenshot`` only with a fresh compositor
        frame; a settled page on a busy machine may never produce one, and the call then waits
        indefinitely while ``Runtime.evaluate`` keeps working (seen in CI twice, once after a
        full-page capture's resize, once despite the wake-up below). So each attempt is
        bounded and preceded by a compositor wake-up (a brief screencast, which forces
        frames); the viewport is captured (``full_page`` resizes the view first, one more
        frame to wait for). When every attempt stalls, a second, fresh headless Chromium
        renders the page's current URL into the PNG (``--screenshot``): another process, so
        the stalled compositor is not in its way.
        """
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        last: BrowserError | TimeoutError | None = None
        for _ in range(attempts):
            try:
                self._wake_compositor()
                data = self.send("Page.captureScreenshot", timeout_s=attempt_timeout_s,
                                 **params)["data"]
            except (BrowserError, TimeoutError) as exc:
                last = exc
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(base64.b64decode(data))
            return path
        url = str(self.evaluate("location.href"))
        if self._render_in_new_browser(url, path):
            return path
        raise BrowserError(f"no screenshot of {url} after {attempts} attempts of "
                           f"{attempt_timeout_s:.0f}s ({last}) nor from a fresh browser")

    def _render_in_new_browser(self, url: str, path: Path, timeout_s: float = 120.0) -> bool:
        """Render ``url`` with a separate headless Chromium (``--screenshot``), letting the
        page's scripts run for 15 s of virtual time first. True when the PNG was written."""
        path.parent.mkdir(parents=True, exist_ok=True)
        profile = Path(tempfile.mkdtemp(prefix="verikg-chromium-shot-"))
        log = (self.log_dir / "chromium-screenshot.log").open("wb")
        proc = subprocess.Popen(
            [chromium_binary(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             "--virtual-time-budget=15000", "--hide-scrollbars", f"--screenshot={path}", url],
            stdout=log, stderr=subprocess.STDOUT)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()  # the browser we started, by its PID
            proc.wait(timeout=15)
        finally:
            log.close()
            shutil.rmtree(profile, ignore_errors=True)
        return path.exists() and path.stat().st_size > 0

    def _wake_compositor(self) -> None:
        """Make the renderer produce frames: bring the page to the front and run a short
        screencast (its frames are acknowledged so it keeps producing them)."""
        self.send("Page.bringToFront", timeout_s=10)
        self.send("Page.startScreencast", timeout_s=10, format="jpeg", quality=10,
                  everyNthFrame=1)
        assert self.ws is not None
        deadline = time.monotonic() + 1.0
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = json.loads(self.ws.recv(timeout=left))
            except TimeoutError:
                break
            if message.get("method") == "Page.screencastFrame":
                self._next_id += 1
                self.ws.send(json.dumps({
                    "id": self._next_id, "method": "Page.screencastFrameAck",
                    "params": {"sessionId": message["params"]["sessionId"]}}))
        self.send("Page.stopScreencast", timeout_s=10)

__all__ = ["CHROMIUM_FLAGS", "BrowserError", "Chromium", "chromium_binary"]

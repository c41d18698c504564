"""The live county page and the HTML report in a real headless Chromium.

``countysim viz`` is started on a free localhost port and driven like a researcher would:
the map renders, a lever is changed, the model reset and stepped, and a chart changes.
Screenshots are kept in ``results/test-artifacts/``. The report is opened from disk and
every embedded image must decode in the browser.

Chromium is Debian's (``apt-get install chromium``) driven by Playwright's Python package;
browsers are never downloaded. Without Chromium the tests skip, saying how to enable them,
unless ``COUNTYSIM_REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes a missing browser a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).absolute().parents[2]
ARTIFACTS = ROOT / "results" / "test-artifacts"
REQUIRE = os.environ.get("COUNTYSIM_REQUIRE_BROWSER") == "1"
#: Flags for a headless Chromium on a machine with no network beyond localhost.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
HOW_TO_ENABLE = (
    "install Chromium (Debian/Ubuntu: sudo apt-get install chromium) or point COUNTYSIM_CHROMIUM at a Chrome or "
    "Chromium binary; the Python package playwright comes with countysim's dev extras"
)

pytestmark = pytest.mark.slow


def _unavailable(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"{reason}, and COUNTYSIM_REQUIRE_BROWSER=1 requires the browser tests to run")
    pytest.skip(f"{reason}: {HOW_TO_ENABLE}")


def find_chromium() -> str | None:
    """A Chromium or Chrome binary: $COUNTYSIM_CHROMIUM, Debian's, or one on the PATH."""
    explicit = os.environ.get("COUNTYSIM_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = find_chromium()
    if path is None:
        _unavailable("no Chromium found")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Python package playwright is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``countysim viz`` on a free port; its browser files installed for offline use."""
    from experiments.viz import assets as viz_assets

    try:
        viz_assets.install()
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        _unavailable(f"the live page's browser files are missing and npm could not fetch them ({exc})")
    port = _free_port()
    log = tmp_path_factory.mktemp("viz") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "experiments.cli.main", "viz", "--port", str(port)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so the server and its child stop together
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"countysim viz did not serve {url}:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _week(page: Any) -> str:
    return page.locator(".countysim-when").inner_text()


def test_live_page_map_renders_and_a_lever_and_steps_change_the_chart(browser: Any, live_page: str) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(live_page, timeout=90_000)
        page.wait_for_selector(".countysim-map img", timeout=90_000)
        page.wait_for_function(
            "() => { const i = document.querySelector('.countysim-map img'); return i && i.complete && i.naturalWidth > 100; }",
            timeout=60_000,
        )
        assert _week(page) == "before week 1"
        chart = page.locator(".countysim-coverage img")
        before = chart.screenshot()
        assert "codistribution=False" in page.locator(".countysim-levers").inner_text()

        # the lever: switch co-distribution on, then reset to rebuild the county with it
        page.locator("label:has-text('Co-distribution')").click()
        page.get_by_role("button", name="Reset").click()
        page.wait_for_function(
            "() => document.querySelector('.countysim-levers')?.innerText.includes('codistribution=True')",
            timeout=60_000,
        )
        step = page.get_by_role("button", name="Step")
        for k in range(1, 4):
            step.click()
            page.wait_for_function(
                f"() => document.querySelector('.countysim-when')?.innerText.startsWith('week {k} ')", timeout=60_000
            )
        page.wait_for_timeout(500)  # let the chart image swap in
        after = chart.screenshot()
        assert after != before, "three steps did not change the coverage chart"
        value = page.locator(".countysim-express_village_coverage").inner_text()
        assert 0.0 <= float(value) <= 1.0
        assert errors == [], errors
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "live_page.png"), full_page=True)
        page.close()
    assert (ARTIFACTS / "live_page.png").stat().st_size > 10_000


def test_the_report_opens_in_the_browser_with_every_image_and_chinese_glyph(tiny, browser: Any, tmp_path: Path) -> None:
    from experiments.report.page import write_report
    from experiments.run.single import run_to_folder

    _, folder = run_to_folder(tiny(), tmp_path / "run", figures=False)
    report = write_report(folder)
    page = browser.new_page(viewport={"width": 1200, "height": 1600})
    try:
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        images = page.evaluate(
            "() => Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
        )
        # a run without figures: the report draws targets, channel shares, farm sales and every indicator
        assert len(images) == 4 and all(ok and w > 100 and h > 100 for ok, w, h in images), images
        page.evaluate("() => document.fonts.ready")
        assert page.evaluate("() => document.fonts.check('16px countysim-cjk', '县域商业')")
        assert page.evaluate(
            "() => Array.from(document.fonts).some(f => f.family.includes('countysim-cjk') && f.status === 'loaded')"
        )
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=False)
        page.close()

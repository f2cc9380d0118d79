"""report/index.html in a real headless browser: it renders, every chart loads, and it can be looked at (a screenshot).

Chromium and its driver come from the system (Debian: ``apt-get install chromium chromium-driver``; .ci/run installs
them where it can); selenium drives them with the driver given by path, so nothing is downloaded. The test skips only
where no Chromium is installed. ``HARNESS_SCREENSHOT=docs/report-screenshot.png`` also saves the screenshot there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from harness.cli.main import main
from harness.results.schema import RunRecord
from harness.results.store import write_records
from tests.conftest import ROOT
from tests.factories import make_record

CHROMIUM = next((found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))), None)
PNG = b"\x89PNG\r\n\x1a\n"
LATENCIES = [0.10, 0.11, 0.10, 0.12, 0.10]


def night(day: int, symbol: str, speedup: float) -> list[RunRecord]:
    """One nightly's eager and compiled run of `symbol`, the compiled one `speedup` times faster than its paired eager."""
    common: dict[str, Any] = {"symbol": symbol, "torch_version": "2.13.0+cpu", "timestamp_utc": f"2026-11-2{day}T03:00:00+00:00"}
    run_id = f"2026112{day}T030000Z-{symbol}"  # as the bench names its runs: the report reads the date from it
    eager = make_record("eager", run_id=f"{run_id}-eager", latencies=LATENCIES, **common)
    compiled = make_record(
        "compiled",
        run_id=f"{run_id}-compiled",
        latencies=[x / speedup for x in LATENCIES],
        paired_eager_latencies_s=LATENCIES,
        **common,
    )
    return [eager, compiled]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m harness report` over three nights of two symbols, against the committed baselines."""
    results, out = tmp_path_factory.mktemp("results"), tmp_path_factory.mktemp("report")
    write_records(
        [r for day, speedup in ((1, 1.30), (2, 1.31), (3, 1.10)) for s in ("BTCUSD", "GOOG") for r in night(day, s, speedup)],
        results,
        name="nights",
    )
    assert (
        main(["-q", "report", "--results-dir", str(results), "--baselines-dir", str(ROOT / "baselines"), "--output", str(out)])
        == 0
    )
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium chromium-driver)")
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    assert Path(driver).is_file(), f"Chromium is at {CHROMIUM} but chromedriver is not: apt-get install chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(argument)  # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
    chrome = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    try:
        yield chrome
    finally:
        chrome.quit()


def test_the_report_renders_with_every_chart_loaded(report: Path, browser: webdriver.Chrome, tmp_path: Path) -> None:
    browser.get((report / "index.html").as_uri())  # returns after the load event: every image has loaded or failed
    assert browser.title == "Chronos-2: torch.compile vs eager"
    headline = browser.execute_script("return document.querySelector('h1') && document.querySelector('h1').innerText")
    assert headline == "Chronos-2: torch.compile vs eager"
    text = browser.execute_script("return document.body.innerText")
    assert "BTCUSD" in text and "GOOG" in text, text[:2000]
    verdict = browser.execute_script("return document.getElementById('headline').innerText")
    assert verdict.split()[0] in ("PASS", "FAIL") and "comparison(s)" in verdict  # the gate's answer first

    images = browser.execute_script("return [...document.images].map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])")
    written = sorted(path.name for path in report.glob("*.png"))
    assert written and sorted(src for src, _, _ in images) == written, f"the page shows {images}, the report wrote {written}"
    broken = [src for src, complete, width in images if not complete or width == 0]
    assert broken == [], f"images that did not load in {report / 'index.html'}: {broken}"

    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(int(height) + 100, 12_000))  # the whole page in one picture
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot)) and shot.read_bytes()[:8] == PNG and shot.stat().st_size > 20_000
    if target := os.environ.get("HARNESS_SCREENSHOT"):
        shutil.copyfile(shot, target)


def test_the_first_screen_says_pass_or_fail_and_names_each_regression(tmp_path: Path, browser: webdriver.Chrome) -> None:
    import dataclasses

    from tests.factories import record_baselines

    baseline_night = night(1, "BTCUSD", 1.30)
    record_baselines_dir = tmp_path / "first"
    write_records(baseline_night, record_baselines_dir, name="first")
    baselines = tmp_path / "baselines"
    record_baselines(record_baselines_dir, baselines)
    results = tmp_path / "results"
    write_records(baseline_night, results, name="first")
    eager, compiled = night(2, "BTCUSD", 1.30)
    write_records([eager, dataclasses.replace(compiled, mae=14.0)], results, name="second")  # MAE +40%: gated anywhere
    out = tmp_path / "report"
    assert main(["-q", "report", "--results-dir", str(results), "--baselines-dir", str(baselines), "--output", str(out)]) == 0

    browser.set_window_size(1280, 800)
    browser.get((out / "index.html").as_uri())
    box = browser.execute_script(
        "const h = document.getElementById('headline'); const r = h.getBoundingClientRect();"
        "return [h.innerText, r.top, getComputedStyle(h).borderTopColor, h.previousElementSibling.tagName]"
    )
    text, top, colour, before = box
    assert before == "H1" and 0 <= top < 800  # right under the title, on the first screen
    assert text.startswith("FAIL") and "1 regression(s)" in text and colour == "rgb(217, 48, 37)", box
    assert "BTCUSD" in text and "MAE" in text  # the regression's own line
    shot = tmp_path / "first-screen.png"
    assert browser.save_screenshot(str(shot)) and shot.read_bytes()[:8] == PNG
    if target := os.environ.get("HARNESS_FIRST_SCREEN"):
        shutil.copyfile(shot, target)

"""The decision report as a user gets it: ``salesim compare`` writes it by default and prints its
path, and a real browser (headless Chromium, driven by Selenium) renders it with no console
error and no request outside the file.

CI installs the browser from the system's packages (``apt-get install chromium chromium-driver``)
and ``selenium`` from PyPI; the browser test is skipped where either is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"


def _salesim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], capture_output=True, text=True, timeout=600,
                          cwd=cwd, env=env)


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """``salesim compare minimal more_ae --reps 4 --seed 5 --out cmp`` (the report by default)."""
    root = tmp_path_factory.mktemp("report_cli")
    text = (DATA / "minimal.yaml").read_text(encoding="utf-8")
    (root / "minimal.yaml").write_text(text, encoding="utf-8")
    more = text.replace("name: minimal\n", "name: more_ae\n").replace(
        "    max_open_opportunities: 10\n", "    max_open_opportunities: 20  # ASSUMPTION: the AE's bigger desk\n")
    (root / "more_ae.yaml").write_text(more, encoding="utf-8")
    done = _salesim("compare", "minimal.yaml", "more_ae.yaml", "--reps", "4", "--seed", "5", "--out", "cmp",
                    "--no-figures", "--workers", "1", cwd=root)
    return root, done


def test_compare_writes_the_report_by_default_and_prints_its_path(compared) -> None:
    root, done = compared
    assert done.returncode == 0, done.stderr
    assert re.search(r"^report: cmp/report\.html \(\d+ KB\)$", done.stdout, re.M), done.stdout
    page = (root / "cmp" / "report.html").read_text(encoding="utf-8")
    assert "Moving from minimal to more_ae" in page
    assert "the AE’s bigger desk" in page or "the AE&#39;s bigger desk" in page


def test_report_command_and_no_report(compared) -> None:
    root, _ = compared
    done = _salesim("report", "cmp/minimal", "cmp/more_ae", "--out", "pair.html", cwd=root)
    assert done.returncode == 0, done.stderr
    assert (root / "pair.html").stat().st_size > 10_000
    bad = _salesim("report", "nowhere", cwd=root)
    assert bad.returncode == 2 and bad.stderr.startswith("salesim: report: nowhere: no such folder")
    assert "Traceback" not in bad.stderr


def _browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver_path = shutil.which("chromedriver")
    if binary is None or driver_path is None:
        pytest.skip("no Chromium and chromedriver on this machine (apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    flags = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900")
    for flag in flags:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=options)


def test_the_report_renders_in_a_browser_without_errors_or_requests(compared, tmp_path: Path) -> None:
    root, done = compared
    assert done.returncode == 0, done.stderr
    page = root / "cmp" / "report.html"
    driver = _browser()
    try:
        driver.get(page.as_uri())
        heading = driver.find_element("css selector", "#answer p.answer")
        assert heading.is_displayed() and heading.text.startswith("Moving from minimal to more_ae")
        assert driver.execute_script("return document.querySelectorAll('svg').length") >= 4
        width = driver.execute_script("return document.querySelector('svg').getBoundingClientRect().width")
        assert width > 300  # the figures are drawn at a readable size
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1200, min(int(height), 12_000))
        shot = tmp_path / "report.png"
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 50_000
        console = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
        requests = []
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                requests.append(message["params"]["request"]["url"])
    finally:
        driver.quit()
    assert console == []
    assert requests and all(u == page.as_uri() or u.startswith("data:") for u in requests), requests


def test_plan_json_keeps_the_report_path_off_the_document(compared) -> None:
    root, _ = compared
    done = _salesim("plan", "--scenario", "minimal.yaml", "--annual-revenue", "100000", "--simulate", "--reps", "3",
                    "--workers", "1", "--out", "plan", "--json", "--report", cwd=root)
    assert done.returncode == 0, done.stderr
    json.loads(done.stdout)  # the standard output is the JSON document only
    assert "salesim: report: plan/report.html (" in done.stderr
    page = (root / "plan" / "report.html").read_text(encoding="utf-8")
    assert "The plan reaches $100,000 first-year revenue in " in page

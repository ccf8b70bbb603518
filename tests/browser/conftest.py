"""Headless Chromium (Debian's ``chromium`` and ``chromium-driver``, which ``.ci/run`` installs)
driven by Selenium over the demo client's rendered pages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

WIDTHS = (1280, 390)  # a laptop and a phone


def _driver_path() -> str | None:
    return shutil.which("chromedriver") or next(
        (p for p in ("/usr/lib/chromium/chromedriver", "/usr/bin/chromedriver") if Path(p).is_file()), None)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session; its console log is read per page."""
    webdriver = pytest.importorskip("selenium.webdriver")
    driver_path = _driver_path()
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not driver_path or not binary:
        pytest.skip("Chromium or chromium-driver is not installed (.ci/run installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                "--force-device-scale-factor=1"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    yield driver
    driver.quit()

"""The chat page in headless Chromium: ask, watch the answer stream in, open citation [1]."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from api_support import QUESTION, serve

from api.main import create_app
from rag.config import Settings

CHROMEDRIVER = Path("/usr/bin/chromedriver")


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


@pytest.fixture
def browser(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    binary = chromium()
    if binary is None or not CHROMEDRIVER.exists():
        pytest.skip("needs Debian's chromium and chromium-driver: "
                    "apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(arg)
    # An explicit driver path: Selenium Manager never tries to download one.
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def test_chat_page_streams_and_shows_quotes(assistant, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    answer = assistant.ask(QUESTION)
    first = answer.citations[0]
    with serve(create_app(Settings(), assistant=assistant)) as base:
        browser.get(base + "/")
        box = browser.find_element(By.ID, "question")
        box.send_keys(QUESTION)
        browser.find_element(By.ID, "send").click()
        wait = WebDriverWait(browser, 30)
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".turn[data-done='true']")))
        turn = browser.find_element(By.CSS_SELECTOR, ".turn")
        assert QUESTION in turn.find_element(By.CSS_SELECTOR, ".q").text
        assert first.region in turn.find_element(By.CSS_SELECTOR, ".a").text
        turn.find_element(By.CSS_SELECTOR, "button.cite[data-id='1']").click()
        quote = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".turn .quote")))
        assert first.quote in quote.text
        assert first.region in quote.text
        assert f"{first.report_year}年报告" in quote.text
        assert f"涉及{first.covered_year}年" in quote.text

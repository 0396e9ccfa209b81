"""Chromium for the console tests (Playwright, headless, Debian's build): the browser,
a page per fresh context at 1366×768 in zh-CN, signing in, and screenshots under
docs/screenshots/ checked to be more than a blank page."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api

from tests.support.nodes import REPO

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "docs" / "screenshots"
VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    assert CHROMIUM.exists(), "Debian's Chromium is installed by scripts/bootstrap.sh"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    """Opens pages, each in a fresh browser context (no cookies)."""
    contexts: list[Any] = []

    def new_page() -> Any:
        context = chromium.new_context(viewport=VIEWPORT, locale="zh-CN")
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


def fill_sign_in(page: Any, name: str, password: str) -> None:
    page.fill("#username", name)
    page.fill("#password", password)
    page.press("#password", "Enter")  # keyboard-friendly: Enter signs in


def save_screenshot(page: Any, name: str, min_bytes: int = 20_000) -> Path:
    """A full-page screenshot of the console under docs/screenshots/, checked to be
    more than a blank page: a real size, many colours, and ink on most rows
    (``min_bytes`` lower for a page that is one small card, such as 登录)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    data = page.screenshot(path=str(path), full_page=True)
    assert len(data) > min_bytes, f"{path} is only {len(data)} bytes"
    probe = page.context.new_page()
    try:
        probe.set_content(
            f'<img id="shot" src="data:image/png;base64,{base64.b64encode(data).decode()}">'
        )
        probe.wait_for_function("document.getElementById('shot').complete")
        stats = probe.evaluate(
            """() => {
              const img = document.getElementById("shot");
              const canvas = document.createElement("canvas");
              canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
              const g = canvas.getContext("2d");
              g.drawImage(img, 0, 0);
              const px = g.getImageData(0, 0, canvas.width, canvas.height).data;
              const colours = new Set();
              let inkRows = 0;
              for (let y = 0; y < canvas.height; y += 4) {
                let ink = false;
                for (let x = 0; x < canvas.width; x += 2) {
                  const i = (y * canvas.width + x) * 4;
                  colours.add((px[i] >> 3) << 10 | (px[i + 1] >> 3) << 5 | (px[i + 2] >> 3));
                  if (px[i] + px[i + 1] + px[i + 2] < 384) ink = true;
                }
                if (ink) inkRows += 1;
              }
              return {width: canvas.width, height: canvas.height, colours: colours.size,
                      inkRows, rows: Math.ceil(canvas.height / 4)};
            }"""
        )
    finally:
        probe.close()
    assert stats["width"] == VIEWPORT["width"] and stats["height"] >= VIEWPORT["height"], stats
    assert stats["colours"] >= 16, f"{path} looks blank: {stats}"
    assert stats["inkRows"] > stats["rows"] * 0.15, f"{path} has little on it: {stats}"
    return path

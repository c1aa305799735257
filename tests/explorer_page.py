"""The explorer page for browser tests: written once per test session, opened by each test.

:func:`explorer_page` writes the page (``mc.write_explorer``) into a session folder and returns
its path; :func:`evaluate` opens it in headless Chromium (:mod:`browser`) and evaluates a
JavaScript function of one argument in it, returning the result (JSON values; typed arrays come
back as objects keyed by index unless the script converts them with ``Array.from``).
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import modelcollapse as mc
from browser import open_page


@cache
def explorer_page() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="mc-explorer-"))
    return mc.write_explorer(folder / "explorer.html")


def evaluate(script: str, arg: Any = None, *, timeout: float = 120.0) -> Any:
    """``(script)(arg)`` evaluated in a freshly opened explorer page; its JSON result."""
    def run(page):
        page.set_default_timeout(timeout * 1000)
        return page.evaluate(script, arg)

    report = open_page(explorer_page(), inspect=run, timeout=timeout)
    report.assert_clean()
    return report.inspected

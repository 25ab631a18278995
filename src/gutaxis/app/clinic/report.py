"""The shareable patient report: one self-contained HTML file (its CSS inline, its charts
inline SVG, no link to anything) and its PDF printed by headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from fastapi import HTTPException

from gutaxis.app.state import WEB, AppState

#: Executables tried for printing, in order.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Seconds the printing may take.
PDF_TIMEOUT = 90.0
#: Chromium processes printing at once (each takes a few hundred MB); others wait.
_PRINTERS = threading.BoundedSemaphore(2)


def report_html(state: AppState, context: dict[str, Any]) -> str:
    """The report as one HTML document (the app's stylesheet and the report's inline)."""
    css = (WEB / "static" / "app.css").read_text(encoding="utf-8")
    template = state.templates.get_template("clinic_report.html")
    return template.render(css=css, clinic_name=state.settings.clinic_name, **context)


def find_chromium() -> str | None:
    """The Chromium executable on PATH (or ``/usr/bin/chromium``), or ``None``."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def html_to_pdf(html: str, *, timeout: float = PDF_TIMEOUT) -> bytes:
    """Print ``html`` to PDF with headless Chromium (503 when Chromium is missing, fails
    or takes longer than ``timeout`` seconds)."""
    chromium = find_chromium()
    if chromium is None:
        raise HTTPException(status_code=503, detail="PDF printing needs Chromium, which is not "
                            "installed on the server; the HTML report works without it")
    with tempfile.TemporaryDirectory(prefix="gutaxis-report-") as folder:
        source, target = Path(folder) / "report.html", Path(folder) / "report.pdf"
        source.write_text(html, encoding="utf-8")
        command = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                   "--no-pdf-header-footer", "--no-first-run", "--disable-extensions",
                   f"--user-data-dir={Path(folder) / 'profile'}",
                   f"--print-to-pdf={target}", source.as_uri()]
        try:
            with _PRINTERS:
                done = subprocess.run(command, capture_output=True, timeout=timeout,
                                      check=False)
        except subprocess.TimeoutExpired:
            raise HTTPException(status_code=503, detail=f"PDF printing took longer than "
                                f"{timeout:g} s; try the HTML report") from None
        except OSError as exc:
            raise HTTPException(status_code=503, detail=f"PDF printing failed to start: "
                                f"{type(exc).__name__}") from None
        if done.returncode != 0 or not target.exists() or target.stat().st_size == 0:
            raise HTTPException(status_code=503, detail=f"PDF printing failed (Chromium exit "
                                f"code {done.returncode}); try the HTML report")
        return target.read_bytes()

"""report.html in a real headless browser: the verdict shows, hostile text stays text, no fetch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers.browser import CHROMIUM, Listener, render, report_requests

HOSTILE = "<img src=x onerror=\"document.title='PWNED'\"><script>document.title='PWNED'</script>"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")


@pytest.fixture
def hostile_server() -> Iterator[Listener]:
    """Speaks just enough RESP to return an error whose text is HTML and script."""
    server = Listener(f"-ERR {HOSTILE}\r\n".encode())
    yield server
    server.close()


@pytest.fixture
def network_trap() -> Iterator[Listener]:
    """Chromium's proxy: any network request the report makes lands here and is counted."""
    trap = Listener(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    yield trap
    trap.close()


def test_report_renders_offline_with_hostile_text_inert(
    run_preflight, hostile_server, network_trap, tmp_path
):
    outcome = run_preflight("--redis-url", f"redis://127.0.0.1:{hostile_server.port}/0")
    assert outcome.returncode == 1
    assert HOSTILE in outcome.check("test_ping")["message"]  # the raw text reached the report...
    dom = render(outcome.report_dir / "report.html", network_trap.port, tmp_path, "--dump-dom")
    assert 'id="preflight-verdict"' in dom
    assert "redis-preflight: FAIL" in dom
    assert "PWNED" not in dom.split("</title>")[0]  # ...but no script from it ran
    assert "&lt;script&gt;document.title" in dom  # it is shown as text
    assert report_requests(network_trap) == []


def test_demo_screenshot(run_preflight, network_trap, tmp_path):
    outcome = run_preflight("--redis-url", "ephemeral")
    shot = tmp_path / "report.png"
    render(outcome.report_dir / "report.html", network_trap.port, tmp_path,
           f"--screenshot={shot}", "--window-size=1280,900")  # fmt: skip
    assert shot.stat().st_size > 10_000
    assert report_requests(network_trap) == []

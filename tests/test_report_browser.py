"""report.html in a real headless browser: the verdict shows, hostile text stays text, no fetch."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOSTILE = "<img src=x onerror=\"document.title='PWNED'\"><script>document.title='PWNED'</script>"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")


class Listener:
    """A loopback TCP server that answers every connection with `reply` and counts them."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.requests: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(2)
            try:
                data = conn.recv(4096)
                self.requests.append(data.split(b"\r\n")[0])  # the request line
                while data:
                    conn.sendall(self.reply)
                    data = conn.recv(4096)
            except OSError:
                pass

    def close(self) -> None:
        self.sock.close()


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


def report_requests(trap: Listener) -> list[bytes]:
    """What the page asked for; Chromium's own service calls to Google hosts are not the report's."""
    own = (b"google.com", b"gstatic.com", b"googleapis.com", b"gvt1.com")
    return [r for r in trap.requests if not any(host in r for host in own)]


def render(html: Path, proxy_port: int, tmp_path: Path, *extra: str) -> str:
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}", f"--proxy-server=http://127.0.0.1:{proxy_port}",
        "--proxy-bypass-list=<-loopback>", "--virtual-time-budget=5000",
        # Chromium's own background traffic (updates, safe browsing) is not the report's.
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--no-pings", "--disable-domain-reliability",
        "--disable-client-side-phishing-detection",
        "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter",
        *extra, html.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    return done.stdout


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

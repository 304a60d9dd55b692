"""report.html in a real headless Chromium, its network requests caught by a local trap."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


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

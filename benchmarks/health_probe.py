"""How long the health probe takes: a healthy local endpoint, and the time to a verdict when it fails.

Run by hand from the repository root: `PYTHONPATH=src python3 benchmarks/health_probe.py`.
Prints figures for benchmarks/README.md; starts its own servers on loopback (HTTP app, redis-server).
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

from redis_preflight.config.health_url import parse_health_url
from redis_preflight.ephemeral.local_server import LocalRedis, free_port
from redis_preflight.probes.health import fetch_health

SEED_PATH = "/api/v1/health/detailed"
BODY = json.dumps({"status": "healthy", "version": "2.0.0", "services": {"redis": True}}).encode()
FETCHES = 300


class Healthy(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        pass


def probe_figures(url: str) -> None:
    endpoint = parse_health_url(url)
    times = []
    for _ in range(FETCHES):
        started = time.perf_counter()
        exchange = fetch_health(endpoint, ca_file=None, connect_timeout=1, read_timeout=1)
        times.append((time.perf_counter() - started) * 1000)
        if exchange.failure is not None:
            raise SystemExit(f"unexpected failure: {exchange.failure}")
    times.sort()
    p50 = statistics.median(times)
    p99 = times[int(len(times) * 0.99) - 1]
    print(f"probe, healthy loopback endpoint, {FETCHES} fetches: p50 {p50:.2f} ms, p99 {p99:.2f} ms")


def verdict_seconds(redis_url: str, health_url: str, *extra: str) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as directory:
        command = [sys.executable, "-m", "redis_preflight.cli", "--redis-url", redis_url]
        command += ["--health-url", health_url, "-q", *extra]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=directory, capture_output=True, check=False)
        return time.perf_counter() - started, done.returncode


def main() -> None:
    app = ThreadingHTTPServer(("127.0.0.1", 0), Healthy)
    Thread(target=app.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{app.server_address[1]}{SEED_PATH}"
    probe_figures(url)
    with tempfile.TemporaryDirectory() as directory:
        redis = LocalRedis(Path(directory)).start()
        try:
            cases = {
                "healthy endpoint": (url,),
                "endpoint refused": (f"http://127.0.0.1:{free_port()}{SEED_PATH}",),
            }
            with socket.socket() as silent:
                silent.bind(("127.0.0.1", 0))
                silent.listen(8)
                port = silent.getsockname()[1]
                cases["endpoint silent, --socket-timeout 1"] = (
                    f"http://127.0.0.1:{port}{SEED_PATH}",
                    "--socket-timeout",
                    "1",
                )
                for name, (health_url, *extra) in cases.items():
                    seconds, code = verdict_seconds(redis.url, health_url, *extra)
                    print(f"whole run (console script), {name}: {seconds:.2f} s, exit {code}")
        finally:
            redis.stop()
    app.shutdown()


if __name__ == "__main__":
    main()

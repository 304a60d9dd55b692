"""Connection set-up (TCP, TLS, AUTH) on loopback, and time to verdict for the TLS faults.

Run by hand from the repository root (needs redis-server and trustme):
    PYTHONPATH=src python3 benchmarks/tls_setup.py [walks]
Prints the median and p95 of each set-up stage over `walks` walks (default 200), then the whole
console-script wall time (start-up and reports included, median of 3) for a verified TLS run
and three faults, with the default timeouts.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trustme

from redis_preflight.ephemeral.local_server import LocalRedis, free_port
from redis_preflight.prepare import prepare

PASSWORD = "bench-pass"  # noqa: S105 - a throwaway server's


def start(directory: Path, *directives: str, wait_port: int | None = None) -> LocalRedis:
    return LocalRedis(directory, list(directives)).start(wait_port=wait_port)


def certificates(directory: Path) -> tuple[Path, Path, Path]:
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca.cert_pem.write_to_path(str(paths[0]))
    leaf.cert_chain_pems[0].write_to_path(str(paths[1]))
    leaf.private_key_pem.write_to_path(str(paths[2]))
    return paths


def stage_figures(url: str, walks: int, **options: object) -> str:
    samples: dict[str, list[float]] = {}
    for _ in range(walks):
        run = prepare({"redis_url": url, **options}, None)
        settings = run.settings
        for stage in run.reachability.setup(settings.connect_timeout, settings.socket_timeout).stages:
            samples.setdefault(stage.name, []).append(stage.elapsed_ms)
        run.close()
    return ", ".join(
        f"{stage} p50 {statistics.median(ms):.2f} / p95 {statistics.quantiles(ms, n=20)[-1]:.2f} ms"
        for stage, ms in samples.items()
    )


def verdict_seconds(*args: str) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as reports:
        started = time.perf_counter()
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "redis_preflight.cli", "--report-dir", reports, "-q", *args],
            capture_output=True,
            check=False,
        )
        return time.perf_counter() - started, done.returncode


def main() -> None:
    walks = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        ca, cert, key = certificates(base)
        tls_port = free_port()
        tls_files = (f'tls-cert-file "{cert}"', f'tls-key-file "{key}"', f'tls-ca-cert-file "{ca}"')
        plain = start(base / "plain", f"requirepass {PASSWORD}")
        tls = start(
            base / "tls",
            f"tls-port {tls_port}",
            *tls_files,
            "tls-auth-clients no",
            f"requirepass {PASSWORD}",
            wait_port=tls_port,
        )
        tarpit = socket.create_server(("127.0.0.1", 0))
        try:
            print(f"set-up over {walks} walks, loopback, 2 shared cores")
            plain_url = f"redis://:{PASSWORD}@127.0.0.1:{plain.port}/0"
            print("  redis:// + AUTH  ", stage_figures(plain_url, walks))
            tls_url = f"rediss://:{PASSWORD}@127.0.0.1:{tls_port}/0"
            print("  rediss:// + AUTH ", stage_figures(tls_url, walks, tls_ca_file=str(ca)))
            print("time to verdict, whole process, default timeouts (connect 5 s, socket 5 s)")
            cases = {
                "verified TLS, healthy": (tls_url, "--tls-ca-file", str(ca), "--plaintext-port", "0"),
                "TLS to a plaintext port": (f"rediss://127.0.0.1:{plain.port}/0", "--tls-ca-file", str(ca)),
                "plaintext to a TLS port": (f"redis://127.0.0.1:{tls_port}/0",),
                "TLS to a silent port (tarpit)": (f"rediss://127.0.0.1:{tarpit.getsockname()[1]}/0",),
            }
            for name, args in cases.items():
                runs = [verdict_seconds("--redis-url", *args) for _ in range(3)]
                seconds = statistics.median(s for s, _ in runs)
                print(f"  {name:32} median of 3: {seconds:5.2f} s  exit {runs[0][1]}")
        finally:
            tarpit.close()
            plain.stop()
            tls.stop()


if __name__ == "__main__":
    main()

"""--wait: retry the connection stages and the health endpoint until they are ready or the time is spent.

Right after a deploy the server is often not ready yet: the name does not resolve, the port
refuses, Redis answers -LOADING or -MASTERDOWN, the sentinels name no primary, the application
answers 503. Faults that no wait fixes (a wrong password, an untrusted certificate) end the wait
at once: the checks then report them as usual.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TypeVar

from redis_preflight.errors import Diagnosis, Fault
from redis_preflight.probes.client import open_client
from redis_preflight.probes.connection import Reachability, reach
from redis_preflight.probes.health import HealthExchange
from redis_preflight.probes.sentinel import locate_primary
from redis_preflight.run import PreflightRun

FIRST_DELAY_S = 0.1
MAX_DELAY_S = 1.0
MAX_PARALLEL_TARGETS = 16
# What each passing fault means the target is waiting for, in the words of the progress line.
NOT_READY = {
    Fault.DNS: "its name to resolve",
    Fault.REFUSED: "it to accept connections",
    Fault.CONNECT_TIMEOUT: "it to accept connections",
    Fault.CLOSED: "it to answer",
    Fault.READ_TIMEOUT: "it to answer",
    Fault.LOADING: "it to load its dataset",
    Fault.MASTERDOWN: "its link to the primary",
    Fault.CLUSTERDOWN: "the cluster to be up",
    Fault.SENTINEL_UNREACHABLE: "a sentinel to answer",
    Fault.SENTINEL_UNKNOWN_SERVICE: "the sentinels to name a primary",
}
# 502 and 504: a proxy in front of an application that is not up yet.
HEALTH_NOT_READY_STATUS = frozenset({502, 503, 504})
T = TypeVar("T")
Report = Callable[[str, str | None], None]  # (what, what it waits for; None once ready)


@dataclass(frozen=True)
class Waited:
    """What --wait saw of one target: how long, and what it still waited for when the time ran out."""

    what: str
    seconds: float
    waiting_for: str | None = None

    @property
    def ready(self) -> bool:
        return self.waiting_for is None

    @property
    def note(self) -> str:
        return f"--wait spent {self.seconds:.0f} s waiting for {self.what}: {self.waiting_for}"


def wait_for_fleet(runs: Sequence[PreflightRun], wait_s: float, report: Report) -> list[Waited]:
    """Every target at once, each until ready or `wait_s` is spent; then its health endpoint.

    A target the wait ran out on keeps its last observation, noted, for the checks to report.
    """
    deadline = time.monotonic() + wait_s
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_TARGETS, len(runs))) as pool:
        return list(pool.map(lambda run: _wait_for_run(run, deadline, report), runs))


def _wait_for_run(run: PreflightRun, deadline: float, report: Report) -> Waited:
    waited, reachability = _retry(run.target.address, lambda: _redis_attempt(run), deadline, report)
    if not waited.ready:
        run.settle(reachability=noted_reachability(reachability, waited))
        return waited
    if run.health is None:
        return waited
    waited, exchange = _retry(run.health.redacted, lambda: _health_attempt(run), deadline, report)
    if not waited.ready:
        run.settle(health=replace(exchange, failure=_noted(exchange.failure, waited.note)))
    return waited


def settle_again(run: PreflightRun, waited: Waited) -> None:
    """In a pytest-xdist worker: the controller's wait ran out; one more look, noted the same way."""
    if waited.what == run.target.address:
        _, reachability = _redis_attempt(run)
        run.settle(reachability=noted_reachability(reachability, waited))
    elif run.health is not None:
        _, exchange = _health_attempt(run)
        run.settle(health=replace(exchange, failure=_noted(exchange.failure, waited.note)))


def _retry(
    what: str, attempt: Callable[[], tuple[str | None, T]], deadline: float, report: Report
) -> tuple[Waited, T]:
    """Attempt with backoff until ready or the deadline passes (one last attempt then)."""
    started = time.monotonic()
    delay = FIRST_DELAY_S
    while True:
        waiting_for, seen = attempt()
        left = deadline - time.monotonic()
        if waiting_for is None or left <= 0:
            report(what, None)
            return Waited(what, time.monotonic() - started, waiting_for), seen
        report(what, waiting_for)
        time.sleep(min(delay, left))
        delay = min(delay * 2, MAX_DELAY_S)


def _redis_attempt(run: PreflightRun) -> tuple[str | None, Reachability]:
    """One walk of the connection stages, on a client of its own; what it still waits for."""
    if run.sentinel is not None and run.sentinel.primary is None:
        run.use_lookup(locate_primary(run.target, run.settings))
    if run.sentinel is not None and run.sentinel.failure is not None:
        reachability = Reachability(failure=run.sentinel.failure, failed_stage="dns")
    else:
        client = open_client(run.target, run.settings)
        try:
            reachability = reach(run.target, client, run.settings)
        finally:
            client.close()
    failure = reachability.failure
    if failure is None or failure.fault not in NOT_READY:
        return None, reachability
    return f"{NOT_READY[failure.fault]} ({failure.fault.value})", reachability


def _health_attempt(run: PreflightRun) -> tuple[str | None, HealthExchange]:
    exchange = run.fetch_health()
    status = exchange.response.status if exchange.response else None
    fault = exchange.failure.fault if exchange.failure else None
    if status in HEALTH_NOT_READY_STATUS:
        return f"the application to answer (HTTP {status})", exchange
    if exchange.response is None and fault in NOT_READY:
        return f"the application to answer ({fault})", exchange
    return None, exchange


def noted_reachability(reachability: Reachability, waited: Waited) -> Reachability:
    return replace(reachability, failure=_noted(reachability.failure, waited.note))


def _noted(failure: Diagnosis | None, note: str) -> Diagnosis | None:
    """A failure the wait ran out on, saying what it waited for."""
    return None if failure is None else replace(failure, message=f"{failure.message} ({note})")

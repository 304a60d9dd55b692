"""From settings to runs: every target of the fleet (or the shard, the ephemeral server, the
restore drill) as a PreflightRun, and every usage error raised before any traffic."""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Any

from redis_preflight.backup.drill import count_live, start_drill
from redis_preflight.config.fleet import given_urls, labels, parse_all, shard
from redis_preflight.config.health_url import HealthEndpoint, HealthUrlError, parse_health_url
from redis_preflight.config.profiles import infer_profile
from redis_preflight.config.redact import Redactor
from redis_preflight.config.settings import EPHEMERAL, PreflightSettings, SettingsError, load_settings
from redis_preflight.config.target import Target, parse_target
from redis_preflight.ephemeral import start_ephemeral
from redis_preflight.probes.client import tls_context
from redis_preflight.probes.sentinel import locate_primary
from redis_preflight.providers.tokens import TokenError, with_token
from redis_preflight.run import PreflightRun

NO_TARGET = (
    "no Redis target: give --redis-url redis://HOST:6379/0 (repeat it, or --targets-file FILE, "
    "for a fleet), set REDIS_URL in the environment or in an env file (--env-file backend/.env), "
    "or try --redis-url ephemeral"
)


def prepare(cli: dict[str, Any], env_file: Path | None, base: Path | None = None) -> tuple[PreflightRun, ...]:
    """Settings, then every target (a fleet); raises SettingsError or TargetError before any traffic.

    A redis+sentinel target asks its sentinels for the primary here, under the timeouts.
    """
    settings = load_settings(cli, env_file)
    base = base or Path.cwd()
    _make_report_dir(base / settings.report_dir, settings.source_of("report_dir"))
    health = health_endpoint(settings)
    given = given_urls(settings, base)
    if settings.rdb is not None or settings.backup is not None:
        return (drill_run(settings, parse_all(given)[:1], health),)
    if not given:
        raise SettingsError(NO_TARGET)
    if given[0].url == EPHEMERAL and len(given) == 1:
        ephemeral = start_ephemeral()
        run = PreflightRun(
            settings,
            parse_target(ephemeral.url),
            provider=ephemeral.provider,
            on_close=ephemeral.stop,
            health=health,
        )
        return (run,)
    targets = parse_all(given)
    chosen = _shard_of(targets, settings)
    if any(targets[n].tls for n in chosen):
        _load_tls_files(settings)
    if settings.auth_token_provider is not None:
        try:
            targets = with_token(settings, settings.auth_token_provider, targets)
        except TokenError as e:
            raise SettingsError(str(e)) from None
    # Labels name each target in test ids; taken over the whole fleet so that shards name them alike.
    names = labels(targets) if len(targets) > 1 else [""]
    # HEALTH_URL is one application's: in a fleet it goes with the first target only.
    return tuple(_run_for(settings, targets[n], health if n == 0 else None, names[n]) for n in chosen)


def _make_report_dir(directory: Path, source: str) -> None:
    """The reports' directory, created now: a run that cannot write its verdict must not start."""
    if directory.exists() and not directory.is_dir():
        raise SettingsError(f"report directory {directory} from {source} is a file: give a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SettingsError(
            f"report directory {directory} from {source} cannot be created: {e.strerror}"
        ) from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise SettingsError(f"report directory {directory} from {source} is not writable")


def _shard_of(targets: list[Target], settings: PreflightSettings) -> list[int]:
    """--shard K/N: the indexes of this run's targets (all of them without it)."""
    if settings.shard_k_n is None:
        return list(range(len(targets)))
    k, n = settings.shard_k_n
    chosen = shard(targets, k, n)
    if not chosen:
        raise SettingsError(
            f"--shard {k}/{n} of a fleet of {len(targets)} target(s) is empty: give N no larger than "
            "the number of targets"
        )
    return chosen


def _run_for(
    settings: PreflightSettings, target: Target, health: HealthEndpoint | None, label: str
) -> PreflightRun:
    run = PreflightRun(settings, target, health=health, label=label)
    if target.sentinels is not None:
        run.use_lookup(locate_primary(target, settings))
    return run


def drill_run(settings: PreflightSettings, live: list[Target], health: HealthEndpoint | None) -> PreflightRun:
    """The keys area against a local server holding the backup; the live server (if given) is
    asked its DBSIZE only, and lends the drill its profile."""
    drill = start_drill(settings.rdb, settings.backup)
    if live:
        count_live(drill, live[0], settings)
    inferred = infer_profile(live[0]) if live and settings.profile is None else None
    profile = inferred[0] if inferred else settings.profile
    settings = settings.model_copy(update={"only": ("keys",), "skip": (), "profile": profile})
    target = parse_target(drill.server.url)
    run = PreflightRun(
        settings, target, provider=drill.provider, on_close=drill.stop, health=health, drill=drill
    )
    if inferred:
        run.profile_reason = f"{inferred[1]}, of the live server {live[0].redacted}"
    return run


def _load_tls_files(settings: PreflightSettings) -> None:
    """A CA bundle or key pair that does not load is a usage error, before any traffic."""
    try:
        tls_context(settings)
    except (ssl.SSLError, OSError) as e:
        # An OSError's text quotes the file name, and the key's path is a secret.
        reason = str(e) if isinstance(e, ssl.SSLError) else e.strerror
        raise SettingsError(
            f"the TLS files do not load ({reason}): --tls-ca-file must hold PEM certificates, "
            "--tls-cert-file and --tls-key-file a matching PEM certificate and key"
        ) from None


NO_HEALTH_URL = (
    "--expect-version and --require-service check the application's health document: give its "
    "URL with --health-url http://HOST:8000/api/v1/health/detailed or HEALTH_URL"
)


def health_endpoint(settings: PreflightSettings) -> HealthEndpoint | None:
    """HEALTH_URL, validated before any traffic; expectations without it would go unchecked."""
    url = settings.health_url.get_secret_value().strip() if settings.health_url else ""
    if not url:
        if settings.expect_version is not None or settings.require_service:
            raise SettingsError(NO_HEALTH_URL)
        return None
    try:
        return parse_health_url(url)
    except HealthUrlError as e:
        raise SettingsError(f"invalid HEALTH_URL: {e}") from None


def redactor_of(runs: tuple[PreflightRun, ...]) -> Redactor:
    """The run's one Redactor: every target's fixed secrets, gathered once, and the cloud tokens
    as they are handed out (asked again at each scrub, sorted again only when one changed)."""
    tokens = [each.token for each in runs if each.token is not None]
    fixed = [secret for each in runs for secret in each.fixed_secrets]
    return Redactor(fixed, live=(lambda: [s for t in tokens for s in t.secrets]) if tokens else None)

"""Authentication: only who holds the credentials gets in, with no more rights than needed."""

import pytest

from redis_preflight.config.profiles import Profile
from redis_preflight.probes.auth import APP_COMMANDS, DANGEROUS
from redis_preflight.verdict.outcomes import not_applicable, unverified

pytestmark = pytest.mark.area("auth")
MIN_PASSWORD_LENGTH = 16


@pytest.mark.severity("blocking")
def test_authenticated(reachability, finding):
    if reachability.auth is None and reachability.failed_stage != "auth":
        unverified(f"target unreachable: {reachability.failure}")
    assert reachability.failed_stage != "auth", str(reachability.failure)
    auth = reachability.auth
    if auth.user is None:
        finding.observed("REDIS_URL has no credentials and the server answered without AUTH")
    else:
        finding.observed(f"AUTH as {auth.user!r} in {auth.elapsed_ms:.2f} ms")


@pytest.mark.severity("blocking", local="advisory")
def test_anonymous_refused(preflight, anonymous, finding):
    """The same probe as the server area's exposure checks: one PING without credentials."""
    if preflight.target.password is None:
        not_applicable("REDIS_URL carries no credentials: see test_auth_required")
    if anonymous.allowed is None:
        unverified(f"cannot tell whether clients without credentials are served: {anonymous.seen}")
    user = preflight.target.username or "default"
    assert not anonymous.allowed, (
        f"{anonymous.seen}: REDIS_URL authenticates as {user!r} but the server answers anyone who "
        "reaches it; turn the default user off (ACL SETUSER default off) or give it a password "
        "(requirepass)"
    )
    finding.observed(f"clients without credentials are refused ({anonymous.seen})")


@pytest.mark.severity("advisory", production="blocking")
def test_auth_required(preflight, reachability, finding):
    if preflight.target.password is not None:
        not_applicable("REDIS_URL carries credentials: test_anonymous_refused checks clients without them")
    if reachability.auth is None:
        unverified(f"no anonymous reply to judge: {reachability.failure}")
    assert preflight.profile is Profile.LOCAL, (
        f"the server answers clients without credentials ({preflight.profile} profile): anyone who "
        f"reaches {preflight.target.address} can read and change every key; set requirepass, or "
        "create ACL users (ACL SETUSER app on >PASSWORD ~* +@all) and ACL SETUSER default off, "
        "then put the credentials in REDIS_URL"
    )
    finding.observed("no credentials and none required: accepted in the local profile only")


@pytest.mark.severity("advisory")
def test_password_length(preflight, finding):
    """Never the length itself: it would tell a guesser where to start."""
    password = preflight.target.password
    if password is None:
        not_applicable("REDIS_URL carries no password: see test_auth_required")
    assert len(password) >= MIN_PASSWORD_LENGTH, (
        f"the password in REDIS_URL is shorter than {MIN_PASSWORD_LENGTH} characters: Redis answers "
        "AUTH as fast as the network allows and never slows guesses down, so a short password falls "
        f"to brute force; use {MIN_PASSWORD_LENGTH} or more random characters (openssl rand -base64 24)"
    )
    finding.observed(f"the password in REDIS_URL has {MIN_PASSWORD_LENGTH} characters or more")


@pytest.mark.severity("advisory")
def test_dangerous_commands_disabled(privileges, finding):
    if privileges.unavailable:
        unverified(privileges.unavailable)
    user, rules = privileges.user, f" ({privileges.rules})" if privileges.rules else ""
    revoke = " ".join(f"-{name.lower().replace(' ', '|')}" for name in privileges.dangerous)
    assert not privileges.dangerous, (
        f"dangerous commands left enabled: user {user!r}{rules} may run {', '.join(privileges.dangerous)}; "
        f"one mistaken call or a leaked password empties or stops the server; revoke them "
        f'(ACL SETUSER {user} {revoke}, or rename-command NAME "" in redis.conf)'
    )
    finding.observed(f"user {user!r}{rules} may not run {', '.join(DANGEROUS)}")


@pytest.mark.severity("blocking")
def test_app_commands_allowed(privileges, hosting, finding):
    if privileges.verifier_only:
        not_applicable(
            f"user {privileges.user!r} may not run {privileges.asked.replace('|', ' ').upper()}: a "
            "least-privilege verifier user, not the application's, whose rights this check judges (run "
            f"with the application's REDIS_URL, or ACL SETUSER {privileges.user} +{privileges.asked})"
        )
    if privileges.unavailable:
        if hosting.provider is not None:
            not_applicable(f"{hosting.provider}: {hosting.provider.rights} ({privileges.unavailable})")
        unverified(privileges.unavailable)
    user = privileges.user
    assert not privileges.denied, (
        f"user {user!r} may not run {privileges.denied_by_command()}: the application will get "
        f"NOPERM; grant them (ACL SETUSER {user} {privileges.grant()})"
    )
    patterns = ", ".join(privileges.patterns)
    finding.observed(
        f"user {user!r} is granted {', '.join(APP_COMMANDS)} on {patterns} by ACL "
        "(whether the server takes writes at all: see test_writes_reach_primary)"
    )


@pytest.mark.severity("blocking")
def test_token_lifetime(preflight, reachability, finding):
    token = preflight.token
    if token is None:
        not_applicable("no --auth-token-provider: REDIS_URL's credentials do not expire on their own")
    if reachability.failed_stage == "auth":
        unverified(f"the token was refused (see test_authenticated): {reachability.failure}")
    lifetime, left, bound = token.lifetime_s(), token.seconds_left(), preflight.time_bound_s
    if bound is not None:
        assert left >= bound, (
            f"the {token.name} token has {left:.0f} s left, the run may take {bound:.0f} s: checks "
            "would meet WRONGPASS mid-run; check the machine's clock and the cloud credentials' own expiry"
        )
    finding.observed(
        f"{token.name}: tokens last {lifetime / 60:.0f} min, {left / 60:.0f} min left, "
        f"refreshed {token.refreshes} time(s) for new connections; {token.connection_limit}"
    )

"""Pin the other libraries' private APIs the verifier uses (src/redis_preflight/compat/).

If an upgrade of redis-py or Python changes one of them, these fail here, naming it, rather than
a census or a TLS check failing somewhere downstream.
"""

from __future__ import annotations

import socket
import ssl
from importlib.metadata import requires, version

import hiredis
import pytest
import redis
from helpers.tls import make_pki, start_tls_redis
from helpers.topologies import start_single_node_cluster
from packaging.requirements import Requirement
from redis.exceptions import AuthenticationError, NoPermissionError, ReadOnlyError, ResponseError

from conftest import PASSWORD
from redis_preflight.compat.redis_py import error_of, raw_socket, slot_routes, use_packer
from redis_preflight.compat.ssl import unverified_chain


def test_installed_redis_py_is_within_the_range_the_package_declares():
    declared = [Requirement(line) for line in requires("redis-preflight") or ()]
    [requirement] = [r for r in declared if r.name == "redis"]
    assert any(spec.operator == "<" for spec in requirement.specifier), "redis has no upper bound"
    assert requirement.specifier.contains(version("redis")), (version("redis"), str(requirement.specifier))


def test_raw_socket_is_the_connected_authenticated_one(password_redis):
    client = redis.Redis(port=password_redis.port, password=PASSWORD, protocol=2)
    connection = client.connection_pool.get_connection()
    try:
        sock = raw_socket(connection)
        assert isinstance(sock, socket.socket)
        sock.sendall(b"*1\r\n$4\r\nPING\r\n")  # no AUTH here: redis-py already sent it
        assert sock.recv(64) == b"+PONG\r\n"
        connection.disconnect()
        with pytest.raises(redis.ConnectionError, match="not connected"):
            raw_socket(connection)
    finally:
        client.connection_pool.release(connection)
        client.close()


def test_a_packer_set_on_a_connected_connection_packs_its_later_commands(plain_redis):
    class Recording:
        def __init__(self) -> None:
            self.packed: list[tuple[object, ...]] = []

        def pack(self, *args: object) -> list[bytes]:
            self.packed.append(args)
            return [hiredis.pack_command(args)]

    client = redis.Redis(port=plain_redis.port, protocol=2)
    connection = client.connection_pool.get_connection()
    try:
        recording = Recording()
        use_packer(recording)(connection)
        connection.send_command("PING")
        assert connection.read_response() == b"PONG"
        assert recording.packed == [("PING",)]
    finally:
        client.connection_pool.release(connection)
        client.close()


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (b"-NOPERM User app has no permissions to run the 'get' command\r\n", NoPermissionError),
        (b"-WRONGPASS invalid username-password pair or user is disabled.\r\n", AuthenticationError),
        (b"-READONLY You can't write against a read only replica.\r\n", ReadOnlyError),
        (b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", ResponseError),
    ],
)
def test_error_replies_become_redis_pys_own_exceptions(reply, kind):
    reader = hiredis.Reader(replyError=error_of, notEnoughData=False)
    reader.feed(reply)
    error = reader.gets()
    assert type(error) is kind
    assert isinstance(error_of(reply[1:-2].decode()), kind)


def test_slot_routes_map_every_slot_to_its_primary(tmp_path):
    cluster = start_single_node_cluster(tmp_path)
    try:
        [node] = cluster.nodes
        client = redis.RedisCluster(host="127.0.0.1", port=node.port, protocol=2)
        try:
            routes = slot_routes(client)
        finally:
            client.close()
        assert len(routes) == 16384
        assert {nodes[0].name for nodes in routes.values()} == {f"127.0.0.1:{node.port}"}
    finally:
        cluster.stop()


def test_unverified_chain_is_what_the_server_presented(redis_factory, tmp_path):
    pki = make_pki(tmp_path)
    server = start_tls_redis(redis_factory, pki, pki.self_signed("compat"))
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", server.tls_port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            chain = unverified_chain(tls)
    assert len(chain) == 1
    assert "BEGIN CERTIFICATE" in chain[0].public_bytes()

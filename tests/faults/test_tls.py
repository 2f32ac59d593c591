"""TLS to Redis: REDIS_URL=rediss://…?ssl_ca_certs=<ca.pem> through RedisFactory, against a
redis-server that listens only on TLS with a certificate of a CA made here with openssl.

redis-py's from_url passes every ssl_* query option it does not know to its SSLConnection as a
string (ssl_ca_certs, ssl_certfile, ssl_keyfile, ssl_cert_reqs; ssl_check_hostname is parsed as
a boolean), and `rediss://` makes SSLConnection the pool's connection class: RedisFactory keeps it
(it swaps in hiredis packing only for plain TCP), so every client of the API and the worker talks
TLS; the server has no plain port to fall back to."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from app.config import Settings
from app.connection.factory import RedisFactory
from app.connection.packing import HiredisPackingConnection
from tests.api.conftest import StartService
from tests.conftest import with_
from tests.redis_server import RedisServer, Tls, require_binary

DAYS = "2"


def openssl(*args: str | Path, cwd: Path) -> None:
    done = subprocess.run(
        [require_binary("openssl"), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"openssl {' '.join(map(str, args))}: {done.stderr}"


def make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed CA (EC P-256): its certificate and key."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    openssl(
        "req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-keyout", key, "-out", cert, "-days", DAYS, "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    return cert, key


def make_server_cert(directory: Path, ca: tuple[Path, Path]) -> Tls:
    """A server certificate for 127.0.0.1 and localhost, signed by `ca`."""
    cert, key, request = directory / "server.pem", directory / "server.key", directory / "server.csr"
    extensions = directory / "server.ext"
    extensions.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    openssl(
        "req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-keyout", key, "-out", request, "-subj", "/CN=127.0.0.1", cwd=directory,
    )  # fmt: skip
    openssl(
        "x509", "-req", "-in", request, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
        "-out", cert, "-days", DAYS, "-extfile", extensions, cwd=directory,
    )  # fmt: skip
    return Tls(cert=cert, key=key, ca=ca[0])


@pytest.fixture
def certificates(tmp_path: Path) -> Tls:
    directory = tmp_path / "tls"
    directory.mkdir()
    return make_server_cert(directory, make_ca(directory, "test-ca"))


@pytest.fixture
def tls_server(make_redis_server: Callable[..., RedisServer], certificates: Tls) -> RedisServer:
    return make_redis_server(tls=certificates)


async def test_a_job_runs_end_to_end_over_tls(
    tls_server: RedisServer, start_service: StartService, settings: Settings
) -> None:
    # tls_server first: set up before the service, so torn down after it (the worker stops on a live Redis).
    assert tls_server.url.startswith("rediss://")
    tls_settings = with_(settings, redis_url=tls_server.url)
    client = RedisFactory(tls_settings).client()
    try:
        pool = client.connection_pool
        assert pool.connection_class is aioredis.SSLConnection, "the factory kept rediss://'s SSL connections"
        assert not issubclass(pool.connection_class, HiredisPackingConnection)
        assert await client.ping() is True
    finally:
        await client.aclose()

    service = await start_service(tls_settings)  # the API and the worker, each through RedisFactory
    response = await service.client.post("/process?wait=20", json={"text": "Over TLS. Every byte of it."})
    assert response.status == 200, await response.text()
    record = await response.json()
    assert record["status"] == "done", record
    assert service.worker is not None and service.worker.healthy, "the worker's heartbeat reaches Redis over TLS"


async def test_a_server_certificate_of_another_ca_is_refused_with_a_clear_error(
    settings: Settings, tls_server: RedisServer, tmp_path: Path
) -> None:
    other_ca, _ = make_ca(tmp_path / "tls", "other-ca")
    client = RedisFactory(with_(settings, redis_url=tls_server.tls_url(other_ca))).client()
    try:
        with pytest.raises(RedisConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.ping()
    finally:
        await client.aclose()

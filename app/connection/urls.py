"""The hosts and credentials in a redis+cluster:// or redis+sentinel:// URL."""

from __future__ import annotations

from urllib.parse import unquote

Address = tuple[str, int]


def parse_hosts_url(url: str) -> tuple[list[Address], dict[str, str]]:
    """The hosts and credentials of `redis+cluster://[user:password@]host:port[,host:port...]`
    (seed nodes; or a plain redis:// URL with REDIS_CLUSTER=1), or of redis+sentinel:// (sentinels)."""
    rest = url.split("://", 1)[1].split("/", 1)[0]
    userinfo, _, hosts = rest.rpartition("@")
    credentials = {}
    if userinfo:
        username, _, password = userinfo.partition(":")
        credentials = {k: unquote(v) for k, v in (("username", username), ("password", password)) if v}
    seeds = []
    for node in hosts.split(","):
        host, colon, port = node.strip().rpartition(":")
        if not colon:
            host, port = port, "6379"
        seeds.append((host or "localhost", int(port)))
    return seeds, credentials

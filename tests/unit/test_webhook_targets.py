"""WEBHOOK_ALLOWED_HOSTS as app/webhooks/targets.py reads it: which callback URLs pass, and which
addresses a host may be reached at (every IPv6 spelling of an inside IPv4 address counts as inside)."""

from __future__ import annotations

import pytest

from app.webhooks.targets import TargetRefused, allow_list, parse_entry

ANY = allow_list(("*", "http://*"))


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "::",
        "fe80::1", "fc00::1", "fec0::1", "::ffff:127.0.0.1", "::ffff:0:7f00:1", "64:ff9b::a9fe:a9fe",
        "::7f00:1", "2002:7f00:1::", "2001:0:4136:e378:8000:63bf:f5ff:fffe",
    ],
)  # fmt: skip
def test_a_wildcard_never_reaches_an_inside_address(address: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        ANY.check_address("hooks.example.org", 443, address)
    assert address not in str(refused.value), "the reason names the kind of address, not the address"


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1111", "64:ff9b::808:808"])
def test_a_wildcard_reaches_a_public_address(address: str) -> None:
    ANY.check_address("hooks.example.org", 443, address)


def test_a_host_named_by_an_entry_may_be_inside_and_a_wildcard_beside_it_changes_nothing() -> None:
    allow = allow_list(("*", "http://receiver.internal:8080"))
    allow.check_address("receiver.internal", 8080, "10.0.0.7")
    with pytest.raises(TargetRefused):
        allow.check_address("receiver.internal", 9090, "10.0.0.7")  # another port: only the wildcard matches


@pytest.mark.parametrize(
    ("allowed", "url", "ok"),
    [
        ("*", "https://a.example.org/x", True),
        ("*", "http://a.example.org/x", False),
        ("*,http://*", "http://a.example.org/x", True),
        ("hooks.example.com,http://hooks.example.com:8080", "http://hooks.example.com:8080/x", True),
        ("*.example.com:8443", "https://b.example.com:8443/x", True),
        ("*.example.com:8443", "https://b.example.com/x", False),
        ("*.example.com", "https://example.com/x", False),
        ("*.example.com", "https://evil-example.com/x", False),
        ("*", "https://u:p@a.example.org/x", False),
        ("", "https://a.example.org/x", False),
    ],
)
def test_which_urls_pass(allowed: str, url: str, ok: bool) -> None:
    allow = allow_list(tuple(entry for entry in allowed.split(",") if entry))
    if ok:
        allow.check_url(url)
    else:
        with pytest.raises(TargetRefused):
            allow.check_url(url)


@pytest.mark.parametrize("entry", ["a.*.com", "*x.com", "hooks.example.com/path", "*.example.com:port"])
def test_an_entry_that_means_nothing_is_refused_at_start(entry: str) -> None:
    with pytest.raises(ValueError):
        parse_entry(entry)

"""Settings from the environment: defaults, the original design's variables, one clear line per bad value."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app.config import ConfigError, Role, load_settings
from app.connection.urls import parse_hosts_url


def test_defaults_run_everything_embedded_and_offline() -> None:
    settings = load_settings({})
    assert (settings.role, settings.redis_url, settings.embedded) == (Role.ALL, None, True)
    assert (settings.port, settings.queue_name, settings.result_channel) == (3000, "job_queue", "job_result")
    assert settings.summarizer == "extractive"


def test_an_api_or_worker_alone_defaults_to_a_local_redis() -> None:
    assert load_settings({"ROLE": "worker"}).redis_url == "redis://localhost:6379/0"


def test_the_original_design_env_file_works_unchanged() -> None:
    settings = load_settings({"GEMINI_API_KEY": "k", "REDIS_HOST": '"redis"', "ROLE": "api"})
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.summarizer == "gemini"
    assert load_settings({"REDIS_HOST": "cache", "REDIS_PORT": "6380"}).redis_url == "redis://cache:6380/0"


def test_redis_url_wins_over_host_and_port() -> None:
    env = {"REDIS_URL": "redis://a:1/2", "REDIS_HOST": "b"}
    assert load_settings(env).redis_url == "redis://a:1/2"


def test_a_cluster_is_named_by_its_url_scheme_or_by_redis_cluster() -> None:
    assert load_settings({"REDIS_URL": "redis+cluster://a:7000,b:7001"}).redis_cluster
    assert load_settings({"REDIS_URL": "redis://a:7000", "REDIS_CLUSTER": "1"}).redis_cluster
    assert not load_settings({"REDIS_URL": "redis://a:7000"}).redis_cluster


def test_cluster_and_sentinel_urls_give_hosts_and_credentials() -> None:
    assert parse_hosts_url("redis+cluster://user:p%40ss@a:7000,b") == (
        [("a", 7000), ("b", 6379)],
        {"username": "user", "password": "p@ss"},
    )
    assert parse_hosts_url("redis+sentinel://s1:26379,s2:26380/main/2") == ([("s1", 26379), ("s2", 26380)], {})


def test_a_bad_api_key_is_refused_without_showing_it() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"API_KEYS": "good-key-0123456789abcdef,tiny"})
    assert "API_KEYS" in str(caught.value) and "not shown" in str(caught.value)
    assert "tiny" not in str(caught.value) and "good-key" not in str(caught.value)
    settings = load_settings({"API_KEYS": " good-key-0123456789abcdef , other-key-0123456789abc "})
    assert settings.api_keys == ("good-key-0123456789abcdef", "other-key-0123456789abc")
    assert "good-key" not in repr(settings)


def test_the_api_key_is_never_in_the_settings_repr() -> None:
    assert "sekrit" not in repr(load_settings({"GEMINI_API_KEY": "sekrit"}))


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"ROLE": "boss"}, ["ROLE='boss'", "api, worker, all"]),
        ({"PORT": "70000"}, ["PORT='70000'", "1-65535"]),
        ({"WORKER_CONCURRENCY": "0"}, ["WORKER_CONCURRENCY='0'"]),
        ({"WORKER_CONCURRENCY": "lots"}, ["WORKER_CONCURRENCY='lots'"]),
        ({"JOB_TIMEOUT": "-1"}, ["JOB_TIMEOUT='-1'"]),
        ({"JOB_TIMEOUT": "nan"}, ["JOB_TIMEOUT='nan'"]),
        ({"REDIS_URL": "http://x"}, ["REDIS_URL='http://x'", "redis://"]),
        ({"SUMMARIZER": "gpt"}, ["SUMMARIZER='gpt'", "gemini, extractive"]),
        ({"SUMMARIZER": "gemini"}, ["GEMINI_API_KEY", "SUMMARIZER=extractive"]),
        ({"LOG_LEVEL": "loud"}, ["LOG_LEVEL='loud'", "INFO"]),
        ({"QUEUE_NAME": "a{b}"}, ["QUEUE_NAME='a{b}'"]),
        ({"MAX_ATTEMPTS": "0"}, ["MAX_ATTEMPTS='0'"]),
        ({"GEMINI_RPM": "-5"}, ["GEMINI_RPM='-5'", "requests per minute"]),
        ({"GEMINI_TPM": "many"}, ["GEMINI_TPM='many'", "tokens per minute"]),
        ({"GEMINI_PRICE_INPUT_PER_M": "$1"}, ["GEMINI_PRICE_INPUT_PER_M='$1'", "USD per million"]),
        ({"RESULT_CACHE_TTL": "-1"}, ["RESULT_CACHE_TTL='-1'", "0 (off)"]),
        ({"REDIS_CLUSTER": "maybe"}, ["REDIS_CLUSTER='maybe'", "0 or 1"]),
        ({"CORS_ORIGINS": "app.example"}, ["CORS_ORIGINS='app.example'", "https://"]),
        ({"METRICS_PORT": "-1"}, ["METRICS_PORT='-1'"]),
        ({"REDIS_URL": "unix:///r.sock", "REDIS_CLUSTER": "1"}, ["REDIS_CLUSTER=1", "redis://"]),
        ({"REDIS_URL": "redis+sentinel://s:26379"}, ["names no service", "/service"]),
    ],
)
def test_a_bad_value_names_the_variable_the_value_and_what_is_allowed(env: dict[str, str], words: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_a_bad_value_stops_the_process_at_start_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app"], env={"PORT": "nope", "PATH": ""}, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    expected = "configuration error: PORT='nope' is not valid: expected a port number 1-65535"
    assert result.stderr.strip().splitlines() == [expected]


@pytest.mark.parametrize(
    ("env", "shown"),
    [
        ({"REDIS_URL": "http://:secretpw@h:6379/0"}, "REDIS_URL='http://:***@h:6379/0'"),
        ({"REDIS_URL": "redis+sentinel://:secretpw@s:26379"}, "REDIS_URL='redis+sentinel://:***@s:26379'"),
        ({"REDIS_URL": "rediss://u:secretpw@h:6380", "REDIS_CLUSTER": "1"}, "'rediss://u:***@h:6380'"),
    ],
)
def test_an_error_that_shows_redis_url_masks_its_password(env: dict[str, str], shown: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert shown in str(caught.value)
    assert "secretpw" not in str(caught.value)


def test_gemini_model_names_fallbacks_in_order_and_gemini_prices_each_models_own() -> None:
    settings = load_settings({"GEMINI_MODEL": "gemini-2.5-flash, gemini-2.5-flash-lite", "GEMINI_PRICES": "a=0.3/2.5"})
    assert (settings.gemini_model, settings.gemini_fallbacks) == ("gemini-2.5-flash", ("gemini-2.5-flash-lite",))
    assert settings.gemini_prices == (("a", 0.3, 2.5),) and settings.fallback_after_s == 5.0
    assert load_settings({}).gemini_fallbacks == (), "one model: as before"
    for bad in ({"GEMINI_MODEL": "a,,b"}, {"GEMINI_MODEL": "a,a"}, {"GEMINI_PRICES": "a=0.3"}):
        with pytest.raises(ConfigError) as caught:
            load_settings(bad)
        assert next(iter(bad)) in str(caught.value)

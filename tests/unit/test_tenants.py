"""Who a key belongs to: API_KEYS entries (tenant:key or a bare key), API_KEYS_FILE, quotas."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError, Settings
from app.queue.producer import Quota
from app.tenants import Tenants

ALPHA, BARE, ADMIN = "alpha-key-0123456789abcdef", "bare-key-0123456789abcdefgh", "admin-key-0123456789abcdef"


def test_each_key_names_its_tenant_and_a_bare_key_names_default() -> None:
    tenants = Tenants.from_settings(Settings(api_keys=(f"alpha:{ALPHA}", BARE, f"admin:{ADMIN}"), tenant_rpm=30))
    alpha, bare, admin = (tenants.identify(key.encode()) for key in (ALPHA, BARE, ADMIN))
    assert alpha is not None and (alpha.name, alpha.admin, alpha.quota) == ("alpha", False, Quota(30, 0, 0))
    assert bare is not None and (bare.name, bare.admin) == ("default", False)
    assert admin is not None and admin.admin and admin.sees("alpha")
    assert not alpha.sees("default") and alpha.sees("alpha")
    assert tenants.identify(b"alpha") is None and tenants.identify(f"alpha:{ALPHA}".encode()) is None
    assert tenants.required and not Tenants.from_settings(Settings()).required
    open_service = Tenants.from_settings(Settings(tenant_rpm=2)).open
    assert open_service.admin, "with no keys at all, the one user of the service sees everything"
    assert open_service.quota == Quota(2, 0, 0), "and is held to the default quotas"


def test_the_file_sets_quotas_over_the_defaults_and_env_keys_join_its_tenants(tmp_path: Path) -> None:
    path = tmp_path / "tenants.toml"
    path.write_text(
        "[defaults]\nrequests_per_minute = 600\nmax_active_jobs = 100\n"
        f'[tenants.alpha]\nkeys = ["{ALPHA}"]\nmax_active_jobs = 5\nweight = 3\n'
        f'[tenants.ops]\nkeys = ["{ADMIN}"]\nadmin = true\n'
    )
    tenants = Tenants.from_settings(Settings(api_keys_file=str(path), api_keys=(f"alpha:{BARE}",)))
    alpha, other_alpha, ops = (tenants.identify(key.encode()) for key in (ALPHA, BARE, ADMIN))
    assert alpha is not None and alpha.quota == Quota(600, 5, 0, weight=3)
    assert other_alpha == alpha, "a key in API_KEYS joins the file's tenant of that name"
    assert ops is not None and ops.admin and ops.quota == Quota(600, 100, 0)


@pytest.mark.parametrize(
    ("keys", "complaint"),
    [((f"alpha:{ALPHA}", f"beta:{ALPHA}"), "given twice"), (("alpha:short",), "shorter than 16")],
)
def test_bad_keys_are_refused_at_start_without_showing_them(keys: tuple[str, ...], complaint: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Tenants.from_settings(Settings(api_keys=keys))
    assert complaint in str(caught.value) and ALPHA not in str(caught.value)


@pytest.mark.parametrize("weight", ["0", "101", "1.5", "true", '"2"'])
def test_a_weight_outside_1_to_100_is_refused_at_start(tmp_path: Path, weight: str) -> None:
    path = tmp_path / "tenants.toml"
    path.write_text(f'[tenants.alpha]\nkeys = ["{ALPHA}"]\nweight = {weight}\n')
    with pytest.raises(ConfigError) as caught:
        Tenants.from_settings(Settings(api_keys_file=str(path)))
    assert "weight" in str(caught.value) and "from 1 to 100" in str(caught.value)

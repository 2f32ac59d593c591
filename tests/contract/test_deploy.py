"""deploy/k8s: every object valid against the Kubernetes schemas (kubernetes-validate, strict: an
unknown field is an error), and the manifests agree with the service and with each other: names,
ports, probe paths, the grace a worker's drain needs, the queue KEDA scales on, the keys in the Secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from app.config import load_settings
from app.worker.runner import HAND_BACK_S, LOOPS_END_S

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
KUBERNETES = "1.30.0"  # the oldest version still supported by the major clouds when this was written
CUSTOM = ("keda.sh/",)  # custom resources: no schema in kubernetes-validate; checked by hand below


def objects() -> list[dict[str, Any]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            found += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects() if o["kind"] == kind}


def container(name: str) -> dict[str, Any]:
    [only] = by_kind("Deployment")[name]["spec"]["template"]["spec"]["containers"]
    return only


@pytest.mark.parametrize("obj", [o for o in objects() if not o["apiVersion"].startswith(CUSTOM)], ids=str)
def test_each_object_is_valid_kubernetes(obj: dict[str, Any]) -> None:
    kubernetes_validate.validate(obj, KUBERNETES, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def test_a_worker_stop_is_never_cut_short_by_sigkill() -> None:
    settings = load_settings(by_kind("ConfigMap")["summarize-config"]["data"])
    grace = by_kind("Deployment")["summarize-worker"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    # A stop ends within LOOPS_END_S + SHUTDOWN_GRACE + HAND_BACK_S whatever Redis does (runner.py).
    assert grace > LOOPS_END_S + settings.shutdown_grace_s + HAND_BACK_S


def test_probes_and_ports_are_the_services() -> None:
    api, worker = container("summarize-api"), container("summarize-worker")
    assert (api["readinessProbe"]["httpGet"]["path"], api["livenessProbe"]["httpGet"]["path"]) == (
        "/readyz",
        "/healthz",
    )
    assert api["ports"][0]["containerPort"] == 3000  # PORT's default, as the Dockerfile exposes it
    assert worker["livenessProbe"]["httpGet"]["path"] == "/healthz"
    env = {e["name"]: e.get("value") for e in worker["env"]}
    assert worker["ports"][0]["containerPort"] == int(env["METRICS_PORT"])
    assert {e["name"]: e.get("value") for e in api["env"]}["ROLE"] == "api" and env["ROLE"] == "worker"


def test_keda_scales_the_workers_on_every_lanes_waiting_jobs() -> None:
    [scaled] = [o for o in objects() if o["kind"] == "ScaledObject"]
    [trigger] = scaled["spec"]["triggers"]
    assert scaled["spec"]["scaleTargetRef"]["name"] in by_kind("Deployment")
    # The queue list holds the default tenant's normal jobs only: the API's gauge counts every lane.
    assert trigger["type"] == "prometheus" and 'summarize_queue_jobs{state="queued"}' in trigger["metadata"]["query"]
    for name, port in (("summarize-api", 3000), ("summarize-worker", 9400)):
        template = by_kind("Deployment")[name]["spec"]["template"]
        assert template["metadata"]["annotations"]["prometheus.io/port"] == str(port)


def test_every_secret_and_config_reference_resolves_and_no_secret_sits_in_the_config() -> None:
    secrets, configs = by_kind("Secret"), by_kind("ConfigMap")
    for obj in objects():
        spec = obj.get("spec", {}).get("template", {}).get("spec", {})
        for each in spec.get("containers", []):
            for source in each.get("envFrom", []):
                assert (source.get("secretRef") or {}).get("name", next(iter(secrets))) in secrets
                assert (source.get("configMapRef") or {}).get("name", next(iter(configs))) in configs
            for var in each.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref is not None:
                    assert ref["key"] in secrets[ref["name"]]["stringData"], var
    for config in configs.values():
        assert not [k for k in config["data"] if any(w in k for w in ("KEY", "PASSWORD", "SECRET", "URL"))]
    redis = by_kind("StatefulSet")["summarize-redis"]["spec"]["template"]["spec"]["containers"][0]
    assert "requirepass" not in " ".join(redis["command"]) and "$REDIS_PASSWORD" in redis["args"][0]
    assert "appendonly yes" in redis["args"][0] and "noeviction" in redis["args"][0]

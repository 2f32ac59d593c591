"""deploy/prometheus and deploy/grafana against the real tools: promtool checks the rules and runs
their unit tests (every alert fires when it should and not when it should not); a real Prometheus
scrapes a real API and a real worker process, loads the rules, and answers a query for the job
counters and every expression of the Grafana dashboard."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import aiohttp

from app.config import Settings
from tests.api.conftest import StartService
from tests.conftest import with_
from tests.faults.processes import Private, Spawn, worker_env
from tests.helpers import eventually
from tests.redis_server import free_port, require_binary

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = DEPLOY / "prometheus" / "rules.yml"


def test_the_rules_are_valid_and_each_alert_passes_its_unit_tests() -> None:
    promtool = require_binary("promtool")
    checked = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(
        [promtool, "test", "rules", "rules_test.yml"], cwd=RULES.parent, capture_output=True, text=True, timeout=60
    )
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "summarize-queue.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


async def test_prometheus_scrapes_the_api_and_a_worker_and_answers_for_the_jobs(
    private: Private, spawn: Spawn, tmp_path: Path
) -> None:
    prometheus = require_binary("prometheus")
    server, queue, _ = private
    api_port, probe_port, prometheus_port = free_port(), free_port(), free_port()
    env = worker_env(server, queue.keys, SLEEP_SUMMARIZER_S="0.01")
    spawn("api", **env | {"ROLE": "api", "PORT": str(api_port)})
    spawn("worker", **env | {"METRICS_PORT": str(probe_port)})
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{RULES}']\n"
        "scrape_configs:\n"
        f"  - job_name: summarize-api\n    static_configs: [{{targets: ['127.0.0.1:{api_port}']}}]\n"
        f"  - job_name: summarize-worker\n    static_configs: [{{targets: ['127.0.0.1:{probe_port}']}}]\n"
    )
    args = [prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}"]
    args.append(f"--web.listen-address=127.0.0.1:{prometheus_port}")
    with (tmp_path / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=log)  # noqa: ASYNC220 (returns at once)
    try:
        async with aiohttp.ClientSession() as http:
            api, prom = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{prometheus_port}/api/v1"

            async def api_ready() -> bool:
                try:
                    async with http.get(f"{api}/readyz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            await eventually(api_ready, timeout_s=30, what="the API ready")
            for i in range(5):
                async with http.post(f"{api}/process?wait=10", json={"text": f"Job {i} for Prometheus."}) as answer:
                    assert (await answer.json())["status"] == "done"

            async def query(expr: str) -> dict[str, object]:
                async with http.get(f"{prom}/query", params={"query": expr}) as response:
                    body = await response.json()
                    assert response.status == 200 and body["status"] == "success", (expr, body)
                    return body["data"]  # type: ignore[no-any-return]

            async def counted() -> bool:
                try:
                    result = (await query("sum(summarize_jobs_done_total)"))["result"]
                except aiohttp.ClientError:
                    return False
                return bool(result) and float(result[0]["value"][1]) == 5  # type: ignore[index]

            await eventually(counted, timeout_s=30, what="Prometheus counting the worker's 5 jobs")

            async def one_live_worker() -> bool:  # the API's view of the workers, from its own scrape
                result = (await query('max(summarize_workers{alive="true"})'))["result"]
                return bool(result) and float(result[0]["value"][1]) == 1  # type: ignore[index]

            await eventually(one_live_worker, timeout_s=30, what="the API reporting one live worker")
            up = (await query("up"))["result"]
            assert sorted((s["metric"]["job"], s["value"][1]) for s in up) == [  # type: ignore[index]
                ("summarize-api", "1"), ("summarize-worker", "1"),
            ]  # fmt: skip
            async with http.get(f"{prom}/rules") as response:
                groups = (await response.json())["data"]["groups"]
            rules = [rule for group in groups for rule in group["rules"]]
            assert len(rules) == 11 and {rule["health"] for rule in rules} == {"ok"}, rules
            for expr in dashboard_expressions():  # each parses and runs (a parse error answers 400)
                await query(expr)
    finally:
        process.terminate()
        process.wait(timeout=30)


async def test_the_api_says_when_its_queue_gauges_are_stale(
    private: Private, start_service: StartService, settings: Settings
) -> None:
    """SummarizeRedisDown's metric: 1 while a scrape reads the queue from Redis, 0 when it cannot
    (the other gauges then keep their last values, which is why the alert needs it)."""
    server, queue, _ = private
    service = await start_service(with_(settings, redis_url=server.url, queue_name=queue.keys.queue), worker=False)

    async def redis_up() -> float:
        text = await (await service.client.get("/metrics")).text()
        [line] = [line for line in text.splitlines() if line.startswith("summarize_redis_up ")]
        return float(line.split()[1])

    assert await redis_up() == 1.0
    await queue.redis.aclose()
    server.stop()
    assert await redis_up() == 0.0

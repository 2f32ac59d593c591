"""The ceiling of W4: a bare aiohttp server on uvloop, as the service runs, with no Redis behind it.

`POST /process` reads and parses the JSON body, then answers 202 with a small JSON body and a Location header,
the shape of the service's answer; nothing is validated or stored. `GET /healthz` answers 200. No access log.

Usage: python -m bench.bare_server PORT   (runs until SIGTERM or SIGINT)
"""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid

import orjson
import uvloop
from aiohttp import web


async def process(request: web.Request) -> web.Response:
    orjson.loads(await request.read())
    job_id = uuid.uuid4().hex
    body = orjson.dumps({"id": job_id, "status": "queued"})
    return web.Response(body=body, status=202, content_type="application/json", headers={"Location": f"/jobs/{job_id}"})


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def create_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/process", process)
    app.router.add_get("/healthz", healthz)
    return app


async def serve(port: int) -> None:
    """Serve on `port` (every interface, as the service does) until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(create_app(), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, port=port).start()
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m bench.bare_server PORT", file=sys.stderr)
        return 2
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve(int(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

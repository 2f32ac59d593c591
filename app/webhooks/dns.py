"""Name lookups for webhooks on threads of their own: getaddrinfo blocks a thread until the name's
servers answer, and a callback's name is the client's choice. On the loop's default executor, names
whose servers never answer would hold the threads the summarizer works on (asyncio.to_thread)."""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Final

LOOKUP_THREADS: Final = 4
LOOKUP_TIMEOUT_S: Final = 3.0

_POOL: Final = ThreadPoolExecutor(max_workers=LOOKUP_THREADS, thread_name_prefix="webhook-dns")


async def lookup(host: str, port: int, family: int = socket.AF_UNSPEC) -> list[tuple[int, str]]:
    """(family, address) of each address `host` resolves to; OSError (or TimeoutError after
    LOOKUP_TIMEOUT_S) when it does not. At most LOOKUP_THREADS lookups run at once; more wait."""
    loop = asyncio.get_running_loop()
    call = loop.run_in_executor(_POOL, socket.getaddrinfo, host, port, family, socket.SOCK_STREAM)
    found = await asyncio.wait_for(call, LOOKUP_TIMEOUT_S)
    return list(dict.fromkeys((info[0], str(info[4][0])) for info in found))

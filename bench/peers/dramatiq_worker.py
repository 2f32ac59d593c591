"""The module the dramatiq CLI loads: `python -m dramatiq bench.peers.dramatiq_worker --processes 1 --threads N`."""

import os

from bench.peers.dramatiq_app import build

app = build(os.environ["BENCH_REDIS_URL"])

"""A search killed with SIGKILL resumes to its requested trial count, keeping finished trials."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from gradkit import tune

HERE = Path(__file__).parent
SEARCH = """
import sys
sys.path.insert(0, {here!r})
from conftest import tiny_config
from gradkit import tune
tune.search(tiny_config(epochs=25), {{"optimizer.lr": tune.loguniform(1e-3, 1e-1)}}, trials=8,
            stages=None, pruner=None, out={out!r}, report=False, seed=0)
"""


def _search(config, out):
    return tune.search(config,
                       {"optimizer.lr": tune.loguniform(1e-3, 1e-1)}, trials=8, stages=None,
                       pruner=None, out=out, report=False, seed=0, log=lambda *a: None)


def test_sigkilled_search_resumes_without_losing_finished_trials(make_tiny, tmp_path):
    out = tmp_path / "s"
    env = {**os.environ, "GRADKIT_NUM_THREADS": "1"}
    live = subprocess.Popen([sys.executable, "-c", SEARCH.format(here=str(HERE), out=str(out))],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    finished = []
    while time.monotonic() < deadline and len(finished) < 2:
        time.sleep(0.05)
        if (out / "study.journal").exists():
            finished = [r for r in tune.load(out).table() if r["state"] == "COMPLETE"]
    live.send_signal(signal.SIGKILL)
    assert live.wait(timeout=30) == -signal.SIGKILL, "the search ended before the kill"
    before = {r["number"]: r["value"] for r in tune.load(out).table()
              if r["state"] == "COMPLETE"}
    assert 2 <= len(before) < 8

    study = _search(make_tiny(epochs=25), out)
    table = study.table()
    counted = [r for r in table if r["state"] == "COMPLETE"]
    assert len(counted) == 8
    assert {n: v for n, v in ((r["number"], r["value"]) for r in counted) if n in before} \
        == before
    lost = [r for r in table if r["state"] == "FAIL"]
    assert len(lost) <= 1 and all(r["error"].startswith("interrupted") for r in lost)

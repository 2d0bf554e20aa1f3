"""The BLAS thread policy, measured: a gradkit training step at 1..N threads, on the machine as
it is ("idle") and with one core taken by another process ("busy"), so the default of
gradkit/threads.py can be checked on the machine at hand.

    python benchmarks/threads.py                      # 1 and all usable CPUs
    python benchmarks/threads.py --threads 1 2 4 --steps 20

Each (model, threads, load) runs in a fresh process with GRADKIT_NUM_THREADS set, so the
thread count is applied before any product runs, exactly as `gradkit train --threads N`.
The busy load is a Python loop spinning on one core for the whole measurement. Printed: the
median step time in ms; "default" marks the count the policy picks here.
"""

import argparse
import json
import os
import subprocess
import sys
import time

CHILD = r"""
import json, statistics, sys, time
import numpy as np
import gradkit as gk
from gradkit import nn, optim
import gradkit.nn.functional as F
from gradkit import models
name, steps = sys.argv[1], int(sys.argv[2])
gk.manual_seed(0)
if name == "lenet5":
    model, x = models.lenet5(in_channels=1, num_classes=10), gk.randn(64, 1, 28, 28)
elif name == "mlp":
    model = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                          nn.Linear(1024, 10))
    x = gk.randn(256, 784)
else:
    model, x = models.resnet20(num_classes=10), gk.randn(32, 3, 32, 32)
y = gk.randint(0, 10, (x.shape[0],))
opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
times = []
for i in range(steps + 3):
    t = time.perf_counter()
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad(); loss.backward(); opt.step()
    if i >= 3:
        times.append(time.perf_counter() - t)
print(json.dumps({"ms": 1e3 * statistics.median(times), "threads": gk.get_num_threads()}))
"""

SPIN = "while True: pass"


def run(model, threads, steps):
    env = dict(os.environ, GRADKIT_NUM_THREADS=str(threads))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(var, None)
    out = subprocess.run([sys.executable, "-c", CHILD, model, str(steps)], env=env,
                         capture_output=True, text=True, check=True, timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
    from gradkit import threads as policy

    cpus = policy.usable_cpus()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=sorted({1, cpus}))
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--models", nargs="+", default=["lenet5", "mlp", "resnet20"])
    args = p.parse_args()
    default, reason = policy.default_num_threads()
    print(f"{cpus} usable CPUs; the default policy picks {default} ({reason})")
    print(f"{'model':10} {'threads':>7} {'idle ms':>9} {'busy ms':>9}")
    for model in args.models:
        for n in args.threads:
            idle = run(model, n, args.steps)["ms"]
            spinner = subprocess.Popen([sys.executable, "-c", SPIN])
            try:
                time.sleep(0.5)
                busy = run(model, n, args.steps)["ms"]
            finally:
                spinner.kill()
                spinner.wait()
            mark = "  default" if n == default else ""
            print(f"{model:10} {n:7d} {idle:9.1f} {busy:9.1f}{mark}", flush=True)


if __name__ == "__main__":
    main()

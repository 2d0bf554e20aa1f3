"""``examine``: run every check that applies on a configuration and return a DoctorReport."""

import sys
import time

import numpy as np

from gradkit import random as gk_random
from gradkit.doctor import registry
from gradkit.doctor.findings import CheckResult
from gradkit.doctor.report import DoctorReport
from gradkit.doctor.setup import Setup


def examine(model, train, val=None, loss_fn=None, optimizer=None, batch_size=64, steps=300,
            seed=0, checks=None, progress=True):
    """Diagnose training ``model`` on ``train`` (see the package docstring for the arguments).

    The user's model, its weights and the global random state are exactly as before when this
    returns: every check works on copies and its own generators."""
    rng_state, np_state = gk_random.get_rng_state(), np.random.get_state()
    log = _progress_printer() if progress else (lambda message: None)
    started = time.perf_counter()
    try:
        setup = Setup(model, train, val, loss_fn, optimizer, batch_size, steps, seed, log)
        chosen = registry.ordered(checks)
        results, findings = {}, []
        setup.cache["findings"] = findings  # what the checks so far found (later ones read it)
        for i, chk in enumerate(chosen, 1):
            t0 = time.perf_counter()
            try:
                with np.errstate(all="ignore"):  # overflow is what the checks measure
                    result, found = chk.fn(setup)
            except Exception as error:  # a check that breaks must not hide the others
                result, found = CheckResult(
                    "skip", note=f"the check itself failed: {type(error).__name__}: {error}"), []
            results[chk.name] = result
            findings.extend(found)
            log(f"doctor [{i}/{len(chosen)}] {chk.name}: {result.status} "
                f"({time.perf_counter() - t0:.1f} s)")
        meta = {
            "model": type(model).__name__,
            "parameters": int(sum(p.numel() for p in model.parameters())),
            "train_samples": int(len(setup.x)),
            "val_samples": int(len(setup.x_val)) if setup.x_val is not None else 0,
            "batch_size": setup.batch_size, "steps": setup.steps, "seed": setup.seed,
            "seconds": round(time.perf_counter() - started, 2),
        }
        return DoctorReport(findings, results, setup.cache.get("figures", {}), meta, setup)
    finally:
        gk_random.set_rng_state(rng_state)
        np.random.set_state(np_state)


def _progress_printer():
    def log(message):
        print(message, file=sys.stderr, flush=True)
    return log

"""The doctor's checks before training that train copies of the model (family
"before_training", run after doctor/before.py's): can it overfit a tiny subset, and does the
regularization do what it should (cs231n's "overfit a tiny subset" and "increasing the
regularization increases the loss" sanity checks).

    overfit_tiny           cannot_overfit             fit OVERFIT_SAMPLES samples to ~100%
    regularization         regularization_ineffective raising weight decay must shrink weights
                           regularization_too_strong  the penalty dominates the data loss

``setup.cache["overfit_tiny"]``: {"fits": bool, "runs": [{"lr", "weight_decay", "accuracy",
"initial_loss", "final_loss", "steps"}]} (the user's configuration first).
"""

import math

import numpy as np

from gradkit.doctor.findings import CheckResult, Finding, register_code
from gradkit.doctor.registry import check

OVERFIT_SAMPLES = 20
OVERFIT_STEPS = 300  # healthy setups reach OVERFIT_TARGET within 10..120 steps
OVERFIT_TARGET = 0.95  # training accuracy that counts as fitted (19 of 20)
OVERFIT_EVERY = 10
MOVED = 0.9  # the loss "moved" when it fell below 90% of its start
DECAY_STEPS = 10  # steps of the weight-decay probe
DECAY_SHRINK = 0.1  # the probe's decay is set to shrink the weights by about this much
DECAY_MIN = 0.01  # measured shrink below this: ineffective; healthy 0.086 (Adam)..0.66
# Coupled L2 penalty / data loss at init above this: too strong; healthy: 0.05..0.09 (SGD
# with 5e-4 on digits and MNIST, 1e-3 on the spiral). Not for decoupled decay: AdamW's
# default 0.01 measures 0.85 by this formula on a tanh MLP that trains fine.
PENALTY_RATIO = 1.0
UNSTABLE = 1.5  # the λ = 0 copy's loss rising above this x its start in DECAY_STEPS steps

register_code("cannot_overfit", "error",
              f"{OVERFIT_SAMPLES} training samples not fitted to {OVERFIT_TARGET:.0%} accuracy "
              f"(regression: 5% of the initial loss) in {OVERFIT_STEPS} full-batch steps with "
              "the configured optimizer (healthy: <= 120 steps); when lr x10 or /10 fits them: "
              "warning if the loss did not move (below 90% of its start), else info")
register_code("regularization_ineffective", "warning",
              f"raising weight decay shrinks the weights' squared norm by < {DECAY_MIN:g} in "
              f"{DECAY_STEPS} steps (set to shrink it by about 0.18; healthy: >= 0.086)")
register_code("regularization_too_strong", "warning",
              f"the coupled L2 penalty (λ/2)·Σ‖W‖² exceeds {PENALTY_RATIO:g}x the data loss at "
              "init (healthy: <= 0.09), or the tiny subset fits only with weight decay / 10 "
              "or 0 (any optimizer)")


# ----- overfitting a tiny subset -----
def _decay(setup):
    """The configured weight decay (the largest over the param groups; 0 if none)."""
    groups = setup.optimizer_for(setup.copy_model()).param_groups
    return max(float(g.get("weight_decay", 0) or 0) for g in groups)


def _fit_tiny(setup, x, y, **overrides):
    """Full-batch training of a copy on (x, y) until it fits or OVERFIT_STEPS pass."""
    model = setup.copy_model()
    opt = setup.optimizer_for(model, **overrides)
    start = setup.evaluate(model, x, y)
    run = {"lr": float(opt.param_groups[0]["lr"]), "weight_decay": float(
        opt.param_groups[0].get("weight_decay", 0) or 0), "initial_loss": start["loss"]}
    steps, now = 0, start
    while steps < OVERFIT_STEPS:
        losses = setup.fit(model, OVERFIT_EVERY, optimizer=opt, x=x, y=y,
                           batch_size=len(x))
        steps += len(losses)
        now = setup.evaluate(model, x, y)
        if not math.isfinite(now["loss"]) or len(losses) < OVERFIT_EVERY or _fitted(now, start):
            break
    run.update(final_loss=now["loss"], accuracy=now.get("accuracy"), steps=steps,
               fits=_fitted(now, start))
    return run


def _fitted(now, start):
    if "accuracy" in now:
        return now["accuracy"] >= OVERFIT_TARGET
    return now["loss"] <= 0.05 * start["loss"]


def overfit_runs(setup):
    """The tiny-subset fits, cached in ``setup.cache["overfit_tiny"]``: the configuration
    first; when it fails, weight decay / 10 and 0 (if any), then lr × 10 and lr / 10 (up to
    the first that fits)."""
    if "overfit_tiny" in setup.cache:
        return setup.cache["overfit_tiny"]
    idx = np.random.default_rng(setup.seed).permutation(len(setup.x))[:OVERFIT_SAMPLES]
    x, y = setup.x[idx], setup.y[idx]
    runs = [_fit_tiny(setup, x, y)]
    if not runs[0]["fits"]:
        lr, decay = setup.lr, _decay(setup)
        variants = ([{"weight_decay": decay / 10}, {"weight_decay": 0.0}] if decay else []) + [
            {"lr": lr * 10}, {"lr": lr / 10}]
        for variant in variants:
            runs.append(_fit_tiny(setup, x, y, **variant))
            runs[-1]["changed"] = variant
            if runs[-1]["fits"]:
                break
    result = {"fits": runs[0]["fits"], "runs": runs, "samples": int(len(x))}
    setup.cache["overfit_tiny"] = result
    return result


@check("overfit_tiny", "before_training")
def overfit_tiny(setup):
    """Train on a tiny subset: a working setup fits it (100% training accuracy)."""
    result = overfit_runs(setup)
    first = result["runs"][0]
    target = (f"accuracy >= {OVERFIT_TARGET:g}" if first["accuracy"] is not None
              else "loss <= 5% of initial")
    value = first["accuracy"] if first["accuracy"] is not None else first["final_loss"]
    note = f"{result['samples']} samples, {first['steps']} steps"
    if first["fits"]:
        return CheckResult("pass", value, target, note), []
    moved = first["final_loss"] < MOVED * first["initial_loss"]
    cure = next((r for r in result["runs"][1:] if r["fits"]), None)
    evidence = {"samples": result["samples"], "steps": first["steps"],
                "accuracy": first["accuracy"], "initial_loss": first["initial_loss"],
                "final_loss": first["final_loss"], "loss_moved": moved,
                "tried": [{**r["changed"], "fits": r["fits"], "accuracy": r["accuracy"],
                           "final_loss": r["final_loss"]} for r in result["runs"][1:]]}
    why = (f"cs231n and Karpathy's recipe: a correct model overfits {result['samples']} "
           "samples to 100% training accuracy in a few hundred steps; if it cannot, something "
           "is broken before any question of generalization.")
    if cure and "weight_decay" in cure["changed"]:
        decay = cure["changed"]["weight_decay"]
        finding = Finding(
            "regularization_too_strong", "warning", f"the tiny subset fits only with weaker "
            f"weight decay ({decay:.3g} instead of {first['weight_decay']:.3g})", evidence,
            why + " Here the weight decay holds the weights too close to zero.",
            f"Lower the weight decay to {decay:.3g}." if decay else "Lower the weight decay by "
            "more than 10x (the subset fits only without it).",
            {"optimizer.weight_decay": decay})
    elif cure:
        lr = cure["changed"]["lr"]
        finding = Finding(  # slow but moving is a note; not moving at all is a problem
            "cannot_overfit", "info" if moved else "warning", f"the model cannot fit "
            f"{result['samples']} samples with lr {first['lr']:.3g} in {first['steps']} steps, "
            f"but fits them with lr {lr:.3g}", evidence,
            why + " The learning rate is the first thing to tune.",
            f"Set the learning rate to {lr:.3g} (then run the lr range test).",
            {"optimizer.lr": lr})
    else:
        what = ("the loss did not move at all: the gradient does not reach the parameters or "
                "does not fit the loss (check gradient_check, trainable_parameters, labels and "
                "output_kind)" if not moved else
                "the loss fell but not to a fit: the model is too small, too regularized "
                "(dropout, weight decay) or the labels are noise")
        finding = Finding(
            "cannot_overfit", "error", f"the model cannot fit {result['samples']} training "
            f"samples (accuracy {value:.3g} after {first['steps']} steps)" if first["accuracy"]
            is not None else f"the model cannot fit {result['samples']} training samples",
            evidence, why, f"Find the bug first: {what}; no learning rate tried (x10, /10) "
            "fits them.")
    return CheckResult("fail", value, target, note), [finding]


# ----- regularization -----
@check("regularization", "before_training")
def regularization(setup):
    """Weight decay: raising it must shrink the weights; it must not dominate the loss."""
    model = setup.copy_model()
    groups = setup.optimizer_for(model).param_groups
    if not all("weight_decay" in g for g in groups):
        return CheckResult("skip", note="the optimizer has no weight_decay setting"), []
    decay = max(float(g["weight_decay"] or 0) for g in groups)
    decoupled = any(g.get("decoupled_weight_decay") for g in groups)
    n = min(len(setup.x), 256)
    data_loss = setup.evaluate(model, setup.x[:n], setup.y[:n])["loss"]
    penalty = sum(float(g["weight_decay"] or 0) / 2 * sum(float((p._data.astype(np.float64)
                                                                 ** 2).sum())
                                                          for p in g["params"])
                  for g in groups)
    # The probe's decay: lr·λ = DECAY_SHRINK / DECAY_STEPS per step, so that plain or
    # decoupled decay shrinks ‖W‖² by about 1 - (1 - 0.01)^20 ≈ 0.18 in DECAY_STEPS steps.
    probe = DECAY_SHRINK / (setup.lr * DECAY_STEPS)
    norms, losses = {}, {}
    for strength in (0.0, probe):
        copy_ = setup.copy_model()
        losses[strength] = setup.fit(copy_, DECAY_STEPS, optimizer=setup.optimizer_for(
            copy_, weight_decay=strength))
        norms[strength] = sum(float((p._data.astype(np.float64) ** 2).sum())
                              for p in copy_.parameters() if p.requires_grad)
    shrink = 1.0 - norms[probe] / norms[0.0] if norms[0.0] > 0 else 0.0
    base = np.asarray(losses[0.0], float)
    # Training that blows up in these few steps (the loss non-finite or above UNSTABLE x its
    # start) moves the weights chaotically: the decay's effect cannot be read from them.
    unstable = not np.isfinite(base).all() or base.max() > UNSTABLE * base[0]
    ratio = penalty / data_loss if data_loss > 0 else 0.0
    evidence = {"weight_decay": decay, "decoupled": decoupled, "data_loss": data_loss,
                "penalty": penalty, "penalty_ratio": ratio, "probe_weight_decay": probe,
                "weight_norm_shrink": shrink, "probe_steps": DECAY_STEPS}
    how = ("decoupled (AdamW): the decay is not part of any loss, so raising it leaves the "
           "data loss unchanged, as it should; measured instead: it shrinks the weights"
           if decoupled else "coupled L2: the optimizer descends data loss + (λ/2)·Σ‖W‖²; "
           "measured: raising λ shrinks the weights")
    findings = []
    if shrink < DECAY_MIN and not unstable:
        findings.append(Finding(
            "regularization_ineffective", "warning" if decay else "info",
            f"raising weight decay to {probe:.3g} does not shrink the weights "
            f"(squared norm {shrink:+.2%} in {DECAY_STEPS} steps)", evidence,
            "cs231n: raising the regularization strength must raise the regularized loss; "
            "in gradkit the L2 term lives in the optimizer, so raising it must pull the "
            "weights towards 0. Here it does not: the optimizer ignores weight_decay.",
            "Use an optimizer that applies weight_decay (gradkit.optim.SGD, Adam, AdamW), or "
            "add λ/2·Σ‖W‖² to the loss."))
    runs = setup.cache.get("overfit_tiny", {}).get("runs", [])
    verified = any(r["fits"] and "weight_decay" in r.get("changed", {}) for r in runs)
    if decay and not decoupled and ratio > PENALTY_RATIO and not verified:
        # (AdamW's λ is no L2 strength; overfit_tiny already said it, with a tried fix)
        findings.append(Finding(
            "regularization_too_strong", "warning", f"the weight-decay penalty is "
            f"{ratio:.3g}x the data loss at init", evidence,
            "cs231n: with regularization the loss at init should rise only a little above "
            "the data loss; a penalty larger than the data term makes the optimizer shrink "
            "the weights rather than fit the data (underfitting).",
            f"Lower the weight decay (e.g. to {decay / 10:.3g}).",
            {"optimizer.weight_decay": decay / 10}))
    if unstable and not findings:
        return CheckResult("skip", shrink, note=(
            f"training is unstable at lr {setup.lr:g} (loss {base[0]:.3g} -> up to "
            f"{base.max():.3g} in {DECAY_STEPS} steps): the effect of weight decay cannot be "
            "measured; see the learning-rate findings")), findings
    status = "fail" if findings else "pass"
    note = (f"penalty {ratio:.2g}x the data loss; {how}" if decay else
            f"no weight decay configured; {probe:.3g} would shrink ‖W‖² by {shrink:.1%} in "
            f"{DECAY_STEPS} steps")
    return CheckResult(status, shrink, f"shrink >= {DECAY_MIN:g}", note), findings

"""Diagnoses (family "diagnosis", run after the probe's monitors): the learning-rate range
test, the critical point where a stalled run stopped, and model bias against an optimization
issue.

    report = doctor.examine(model, train, checks=["lr_range_test", "critical_point",
                                                  "model_capacity"])
    report.figures["lr_range"]["suggested"]   # the learning rate the sweep suggests

* ``lr_range_test``: Smith's sweep (doctor.lr_range: three sweeps, a suggestion and its
  spread), kept in ``setup.cache["lr_range"]`` and ``setup.cache["lr_suggestion"]`` (the
  probe's rules use it for their overrides when it is known). Findings: lr_too_high when the
  configured lr is at or above the lr where the sweeps blew up, lr_too_low when it is more
  than TOO_LOW× below the suggestion; not when the probe already raised the same code
  (``setup.cache["findings"]``: the findings so far). Either way, earlier findings whose lr
  override moves the lr the same way (lr_too_high, dead_relu, exploding_gradients: the
  probe's 10× guesses) take the suggestion as their override, and the sweep's figures as
  evidence.
* ``critical_point``: at the end of a probe run that stalled with a high loss, the gradient
  against the curvature: ‖g‖²/(2·λ_max·L), the share of the loss a gradient step of the
  stable length 1/λ_max could remove, below FLAT means a critical point; then the extreme
  Hessian eigenvalues (doctor.hessian: Lanczos on finite-difference Hessian-vector products
  of a float64 copy) tell a saddle point (a clearly negative eigenvalue; the loss falls
  along its eigenvector) from a local minimum (Hung-yi Lee's ML 2021 notes, "when gradient
  is small").
* ``model_capacity``: when the training loss stays high and stalled at a point where a
  gradient step would gain little (the same measure, when the model is small enough for
  it: a run that has not converged asks about its learning rate, not its capacity),
  variants of an ``nn.Sequential`` MLP (doctor.variants) train for the same steps from
  fresh initializations: the same architecture, a deeper one (one more hidden layer), a
  wider one (twice the widths) and a shallower one (one hidden layer less). The same model
  fitting clearly better than the run is an optimization issue (its start); while the fresh
  model is still learning at the end, comparing variants compares speeds: inconclusive;
  else the shallower one fitting clearly better, or the deeper one fitting worse (it could
  copy the model and add an identity layer), is an optimization issue, and a deeper or
  wider one fitting clearly better is model bias (the model is too small).

Figures (``setup.cache["figures"]``): ``"lr_range"``: {"lr": [lr per step], "loss": [mean
smoothed loss per step, None past a blow-up], "runs": [[smoothed loss per step] × 3],
"suggested": lr, "spread": [lo, hi], "configured": lr}; ``"critical_point"``: {"ritz":
[Ritz values ascending], "lambda_min", "lambda_max", "grad_norm"}; ``"model_capacity"``:
{kind: [step losses]} for "model" (the probe run), "fresh", "deeper", "wider" and, with two
Linear layers or more, "shallower".
"""

import math

import numpy as np

from gradkit import nn, random as gk_random
from gradkit.doctor import hessian
from gradkit.doctor.findings import CODES, CheckResult, Finding, register_code
from gradkit.doctor.lr_range import MIN_DROP, lr_range
from gradkit.doctor.registry import check
from gradkit.doctor.training import probe
from gradkit.doctor.variants import find_mlp, optimizer_like, rebuilt, with_mlp
from gradkit.nn import functional as F

# ----- the learning-rate range test -----

TOO_HIGH = 1.0  # configured lr ≥ the sweeps' blow-up lr; healthy: blow-up ≥ 3.9× above it
TOO_LOW = 300.0  # suggestion / configured lr above 300; healthy: 0.1-72 (Adam 1e-3, SGD 0.05-1)


@check("lr_range_test", "diagnosis")
def lr_range_test(setup):
    """Smith's learning-rate range test: three exponential sweeps, the suggested lr and its
    spread; the configured lr against where the loss blew up and the suggestion."""
    r = lr_range(setup)
    if r["suggested"] is None:
        why = ("no sweep gave a finite loss" if r["drop"] is None else
               f"no learning rate from {r['lr'][0]:.2g} to {r['lr'][-1]:.2g} lowered the loss "
               f"by {MIN_DROP:.0%} (best: {r['drop']:.1%}): no lr to suggest; the cause is "
               "elsewhere (initialization, gradients: see the other checks)")
        return CheckResult("skip", value=r["drop"], note=why), []
    lr, suggested = r["configured"], r["suggested"]
    evidence = {"configured_lr": lr, "suggested_lr": suggested, "spread": r["spread"],
                "blow_up_lr": r["blow_up"]}
    expected = (suggested / TOO_LOW, r["blow_up"] or math.inf)
    if r["blow_up"] is not None and lr >= TOO_HIGH * r["blow_up"]:
        code, title = "lr_too_high", (f"the range test's loss blew up at lr "
                                      f"{r['blow_up']:.3g}, at or below the configured {lr:.3g}")
    elif suggested / lr > TOO_LOW:
        code, title = "lr_too_low", (f"the configured lr {lr:.3g} is {suggested / lr:.0f}× "
                                     f"below the range test's suggestion {suggested:.3g}")
    else:
        code = None
    found = _lr_finding(setup, code, evidence, suggested, title) if code else None
    findings = [found] if found else []
    status = "fail" if code else "pass"
    lo, hi = r["spread"]
    note = f"suggested {suggested:.3g} (single sweeps: {lo:.3g} .. {hi:.3g})"
    return CheckResult(status, value=lr, expected=expected, note=note), findings


_LR_WHY = {
    "lr_too_high": ("The cs231n notes' learning-rate plot: with a rate too high the loss "
                    "explodes or jumps around instead of settling; the range test shows where "
                    "it starts to blow up."),
    "lr_too_low": ("The cs231n notes' learning-rate plot: a rate too low gives a loss that "
                   "falls almost linearly and far too slowly; the range test shows the rates "
                   "at which it falls."),
}


def _lr_finding(setup, code, evidence, suggested, title):
    """A new finding of ``code``, or None when the probe already raised it (helper F's
    training checks: their rule comes first)."""
    lr = float(f"{suggested:.2g}")
    earlier = setup.cache.get("findings", ())
    _measured_lr_overrides(setup, earlier, lr, evidence)
    if any(f.code == code for f in earlier):
        return None
    return Finding(code, "warning", title, evidence=dict(evidence), explanation=_LR_WHY[code],
                   fix=f"set the learning rate to about {lr:g} (a tenth of the lr at the "
                       "range test's lowest loss)", overrides={"optimizer.lr": lr})


def _measured_lr_overrides(setup, findings, lr, evidence):
    """Earlier findings whose fix moves the lr the way the sweep's suggestion does take the
    suggestion as their override (a measured value instead of a 10× guess), and the
    sweep's figures as evidence."""
    for finding in findings:
        guess = finding.overrides.get("optimizer.lr")
        if guess is not None and (guess < setup.lr) == (lr < setup.lr):
            finding.overrides["optimizer.lr"] = lr
            finding.evidence.update({f"range_test_{k}": v for k, v in evidence.items()})


# ----- where a stalled run stopped -----

HIGH_LOSS = 0.5  # end loss / chance loss ln C (or / the start loss); healthy: 0.06-0.55 ...
STALL = 0.02  # ... but still falling: the last quarter's mean 8-65% below the third's
FLAT = 1e-2  # ‖g‖²/(2·λ_max·L) below this: a critical point; stalled runs: 3e-4 .. 2e-3,
#              healthy runs (still falling): 4e-3 .. 0.1
NEGATIVE = 1e-3  # λ_min < −NEGATIVE·λ_max: a saddle; convex (linear) models: |λ_min| < 1e-11·λ_max
MOVED = 3e-3  # ‖θ_end − θ_start‖/‖θ_start‖ below this: the run did not move, its lr stalled
#              it (stalled runs that moved: >= 0.012; LeNet-5 with SGD 1e-7..1e-4: <= 9e-4)

register_code("saddle_point", "warning",
              f"the run stalled (loss above {HIGH_LOSS}·ln C, falling < {STALL:.0%} over its "
              f"last quarter, weights moved > {MOVED:g} of their norm) at a critical point "
              f"(‖∇L‖²/(2·λ_max·L) < {FLAT:g}: a gradient step could lower the loss by under "
              f"{FLAT:.0%}) whose Hessian has "
              f"λ_min < −{NEGATIVE:g}·λ_max (Lanczos on Hessian-vector products)")
register_code("local_minimum", "warning",
              f"the run stalled with a high loss at a critical point (as for saddle_point) "
              f"whose Hessian has no eigenvalue below −{NEGATIVE:g}·λ_max")


def _tail_loss(losses, share=0.1):
    """Mean of the last ``share`` of the step losses (at least one)."""
    return float(np.mean(losses[-max(1, int(len(losses) * share)):]))


def stalled_high(setup, losses):
    """(high, stalled, evidence): does the training loss stay high, and has it stopped
    falling? High: the last tenth's mean above HIGH_LOSS × the chance loss ln C (softmax
    cross-entropy) or × the first five steps' mean (other losses). Stalled: it fell less
    than STALL (relative) from the third to the last quarter of the run."""
    losses = np.asarray(losses, np.float64)
    end = _tail_loss(losses)
    chance = setup.chance_loss() if setup.loss_fn is F.cross_entropy else None
    reference = chance or float(np.mean(losses[:5]))
    q = len(losses) // 4
    third, last = float(np.mean(losses[2 * q:3 * q])), float(np.mean(losses[3 * q:]))
    drop = (third - last) / max(abs(last), 1e-12)
    evidence = {"end_loss": end, "reference_loss": reference,
                "end_over_reference": end / reference, "last_quarter_drop": drop}
    return end > HIGH_LOSS * reference, drop < STALL, evidence


def _probe_losses(setup):
    """(the probe run, its step losses) or (None, why not)."""
    run = probe(setup)
    if run.error:
        return None, f"the probe run failed: {run.error}"
    losses = np.asarray(run.monitor.losses, np.float64)
    if len(losses) < 20 or not np.isfinite(losses).all():
        return None, ("the probe's loss is not finite" if len(losses) >= 20 else
                      f"the probe ran {len(losses)} steps (20 needed)")
    return run, losses


def moved(setup, model):
    """‖θ_end − θ_start‖ / ‖θ_start‖ of a trained copy ``model`` against the user's model."""
    start = np.concatenate([p._data.ravel() for p in setup.model.parameters()])
    end = np.concatenate([p._data.ravel() for p in model.parameters()])
    return float(np.linalg.norm(end.astype(np.float64) - start) /
                 max(float(np.linalg.norm(start.astype(np.float64))), 1e-300))


def _stalled_or_pass(setup, what):
    """(run, losses, evidence, None) for a run that stalled with a high loss although its
    weights moved, else (.., CheckResult) to return."""
    run, losses = _probe_losses(setup)
    if run is None:
        return None, None, None, CheckResult("skip", note=losses)
    high, stalled, evidence = stalled_high(setup, losses)
    evidence["weights_moved"] = moved(setup, run.model)
    if high and stalled and evidence["weights_moved"] < MOVED:
        return None, None, None, CheckResult("pass", note=(
            f"{what}: the weights moved by {evidence['weights_moved']:.1e} of their norm over "
            "the run: the steps are too small (see the learning-rate findings)"))
    if high and stalled:
        return run, losses, evidence, None
    state = (f"is low ({evidence['end_over_reference']:.2f}× the reference loss)" if not high
             else f"is still falling ({evidence['last_quarter_drop']:.1%} in its last quarter)")
    return None, None, None, CheckResult("pass", note=f"{what}: the training loss {state}")


def _too_large(setup):
    n = sum(p.numel() for p in setup.model.parameters() if p.requires_grad)
    return CheckResult("skip", note=f"{n:,} parameters, above the Hessian check's limit of "
                                    f"{hessian.MAX_PARAMETERS:,}")


@check("critical_point", "diagnosis")
def critical_point(setup):
    """At the end of a stalled run with a high loss: the gradient against the curvature, then
    the extreme Hessian eigenvalues: a saddle point (negative curvature) or a local minimum."""
    run, _, evidence, skip = _stalled_or_pass(setup, "no critical point to examine")
    if skip:
        return skip, []
    c = hessian.curvature(setup, run)
    if c is None:
        return _too_large(setup), []
    low, high, flatness = c["lambda_min"], c["lambda_max"], c["gain"]
    if flatness is None:
        return CheckResult("skip", value=high, note=(
            "the loss is flat in every direction (λ_max ≤ 0): a plateau of dead or saturated "
            "units, not a critical point to classify (see the activation findings)")), []
    evidence.update(grad_norm=c["grad_norm"], lambda_min=low, lambda_max=high,
                    gradient_step_gain=flatness)
    if flatness >= FLAT:
        return CheckResult("pass", value=low / high, note=(
            f"stalled, but not at a critical point: a gradient step could lower the loss by "
            f"{flatness:.1%} (a critical point: under {FLAT:.0%}); see the learning-rate "
            "findings")), []
    if low >= -NEGATIVE * high:
        return CheckResult("fail", value=low / high, expected=f"< {-NEGATIVE:g}",
                           note="local minimum (λ_min/λ_max)"), [_local_minimum(evidence)]
    evidence["loss_drop_along_escape"] = c["escape_drop"]
    finding = Finding(
        "saddle_point", CODES["saddle_point"].severity,
        f"the run is stuck at a saddle point: the gradient is ≈ 0 (a step could lower the "
        f"loss by {flatness:.1e} of it) and the Hessian has a negative eigenvalue {low:.3g} "
        f"(λ_max {high:.3g})", evidence=evidence,
        explanation=("A small gradient does not mean a minimum (Hung-yi Lee, \"when gradient "
                     "is small\"): where the Hessian has a negative eigenvalue the loss still "
                     "falls along its eigenvector; plain gradient descent creeps away from "
                     "such a point, adaptive steps or noise escape it."),
        fix="switch to Adam, or raise the learning rate (more gradient noise); a random "
            "(not symmetric) initialization avoids starting on a saddle",
        overrides=_escape_overrides(setup))
    return CheckResult("fail", value=low / high, expected=f">= {-NEGATIVE:g}",
                       note="saddle point (λ_min/λ_max)"), [finding]


def _local_minimum(evidence):
    return Finding(
        "local_minimum", CODES["local_minimum"].severity,
        f"the run is stuck at a local minimum with a high loss: the gradient is ≈ 0 and the "
        f"Hessian has no clearly negative eigenvalue (λ_min {evidence['lambda_min']:.3g}, "
        f"λ_max {evidence['lambda_max']:.3g})", evidence=evidence,
        explanation=("With the gradient ≈ 0 and no direction of negative curvature the run "
                     "sits at a minimum (Hung-yi Lee's notes); in a large network true local "
                     "minima are rare, so a high loss there usually means the model cannot do "
                     "better (see model_capacity)."),
        fix="use a larger model (more units or layers), or restart from another "
            "initialization", overrides={})


def _escape_overrides(setup):
    """Adam for SGD (its per-weight steps grow where the gradient is small: measured, it
    leaves the plateau of an 8-layer sigmoid net that SGD with momentum 0.9 stays on), else a
    3× larger lr (more gradient noise)."""
    if type(setup.optimizer_for(setup.copy_model())).__name__ == "SGD":
        return {"optimizer.name": "adam", "optimizer.lr": 1e-3}
    return {"optimizer.lr": float(f"{setup.lr * 3:.2g}")}


# ----- model bias or optimization issue -----

BETTER = 0.2  # a variant ends < (1 − BETTER)× the model's loss: it fits clearly better
WORSE = 0.1  # the deeper variant ends > (1 + WORSE)× the model's loss: it fits worse
register_code("optimization_issue", "warning",
              f"the training loss stays high and stalled (at a gradient step gain < {FLAT:g}) "
              f"while the same MLP from a fresh initialization, or (the fresh one stalled "
              f"too) a shallower variant, ends more than {BETTER:.0%} lower, or a deeper "
              f"variant more than {WORSE:.0%} higher (same steps)")
register_code("model_bias", "warning",
              f"the training loss stays high and stalled (at a gradient step gain < {FLAT:g}), "
              f"a fresh copy of the MLP stalls too, and a deeper or wider variant ends more "
              f"than {BETTER:.0%} lower (same steps)")


def _variant_losses(setup, name, seq, steps):
    """{kind: end loss} and {kind: step losses} of the fresh MLP and its variants."""
    kinds = ["fresh", "deeper", "wider"]
    if sum(type(k) is nn.Linear for k in seq) >= 2:
        kinds.append("shallower")
    ends, curves = {}, {}
    for kind in kinds:
        with gk_random.fork_rng(setup.seed):
            variant = with_mlp(setup, name, rebuilt(seq, None if kind == "fresh" else kind))
        curve = setup.fit(variant, steps, optimizer=optimizer_like(setup, variant))
        curves[kind] = curve
        ends[kind] = _tail_loss(curve) if np.isfinite(curve).all() else math.inf
    return ends, curves


@check("model_capacity", "diagnosis")
def model_capacity(setup):
    """When the training loss stays high: the same MLP freshly initialized and shallower,
    deeper and wider variants, trained for the same steps, tell model bias (bigger ones fit
    better) from an optimization issue (the same or a smaller model fits better)."""
    found = find_mlp(setup.model)
    if found is None:
        return CheckResult("skip", note="variants are built for an nn.Sequential MLP (Linear "
                                        "layers and activations) only"), []
    run, losses, evidence, skip = _stalled_or_pass(setup, "no capacity question")
    if skip:
        return skip, []
    c = hessian.curvature(setup, run)
    if c is not None and c["gain"] is not None and c["gain"] >= FLAT:
        return CheckResult("pass", note=(
            f"no capacity question: the run has not converged (a gradient step could still "
            f"lower the loss by {c['gain']:.1%}): see the learning-rate findings")), []
    name, seq = found
    ends, curves = _variant_losses(setup, name, seq, len(losses))
    setup.cache.setdefault("figures", {})["model_capacity"] = {"model": losses.tolist(),
                                                               **curves}
    evidence.update({f"{kind}_end_loss": value for kind, value in ends.items()})
    model, fresh = evidence["end_loss"], ends["fresh"]
    bigger = min(("deeper", "wider"), key=ends.get)
    if fresh < (1 - BETTER) * model:
        why = (f"the same model from a fresh initialization ends at {fresh:.3g}, against "
               f"{model:.3g} from its own: its initialization is the problem")
    elif not stalled_high(setup, curves["fresh"])[1]:
        return CheckResult("pass", value=ends[bigger] / fresh, note=(
            f"inconclusive: the fresh model is still learning at the end of the "
            f"{len(losses)} steps, so its variants compare speeds, not capacities: give more "
            f"steps ({_RATIO})")), []
    elif ends.get("shallower", math.inf) < (1 - BETTER) * fresh:
        why = (f"a shallower variant ends at {ends['shallower']:.3g}, lower than the model's "
               f"{fresh:.3g}: the model could express it, so it is not optimized well")
    elif ends[bigger] < (1 - BETTER) * fresh:
        return CheckResult("fail", value=ends[bigger] / fresh, expected=f">= {1 - BETTER:g}",
                           note=f"model bias ({_RATIO})"), [_model_bias(evidence, bigger, ends,
                                                                      name)]
    elif ends["deeper"] > (1 + WORSE) * fresh:
        why = (f"a deeper variant ends at {ends['deeper']:.3g}, higher than the model's "
               f"{fresh:.3g}: it could copy the model and add an identity layer, so its "
               "optimization fails")
    else:
        return CheckResult("pass", value=ends[bigger] / fresh, expected=f">= {1 - BETTER:g}",
                           note=f"larger variants fit about as well as the model ({_RATIO})"), []
    finding = Finding(
        "optimization_issue", CODES["optimization_issue"].severity,
        f"an optimization issue: {why}", evidence=evidence, layer=name or None,
        explanation=("Hung-yi Lee's test: a model that can express what a smaller one (or the "
                     "same one from another start) fits, yet fits the training data worse, "
                     "has an optimization issue, not model bias; a larger model will not "
                     "help."),
        fix="change the optimization: the learning rate (see the range test), Adam instead "
            "of SGD, BatchNorm, or the initialization (a random, scaled one: He for ReLU)",
        overrides=_optimization_overrides(setup))
    return CheckResult("fail", value=ends[bigger] / fresh,
                       note=f"optimization issue ({_RATIO})"), [finding]


_RATIO = "value: the better larger variant's end loss / the fresh model's"


def _model_bias(evidence, bigger, ends, name):
    return Finding(
        "model_bias", CODES["model_bias"].severity,
        f"the model is too small (model bias): a {bigger} variant ends at loss "
        f"{ends[bigger]:.3g} against the model's {ends['fresh']:.3g}", evidence=evidence,
        layer=name or None,
        explanation=("Hung-yi Lee's model bias: when even the best function the model can "
                     "express fits the training data badly, no optimizer helps; a more "
                     "flexible model (more units or layers) does."),
        fix=f"make the model larger: a {bigger} network (more hidden "
            f"{'layers' if bigger == 'deeper' else 'units'})", overrides={})


def _optimization_overrides(setup):
    suggested = setup.cache.get("lr_range", {}).get("suggested")
    return {"optimizer.lr": float(f"{suggested:.2g}")} if suggested else {}

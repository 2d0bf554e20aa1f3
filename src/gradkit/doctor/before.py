"""The doctor's checks before training (family "before_training"): the cs231n "before
learning" sanity checks and the first steps of Karpathy's recipe, on copies of the model.

    gradient_check         gradient_mismatch          analytic vs centred-difference gradients,
                                                      float64 copy, a few samples and elements
    initial_loss           initial_loss_off           loss at init vs ln C (cross-entropy),
                                                      (C - 1)·margin (multiclass hinge), ...
    trainable_parameters   parameters_not_updating    frozen, optimizer-less or gradient-less
                                                      parameters (the probe run's update ratio
                                                      of zero is the monitor's check)
    symmetric_init         symmetric_weights          units of one layer with identical weights

The two checks that train copies before the probe run (overfitting a tiny subset, the
regularization check) are in doctor/fitting.py.
``setup.cache["figures"]["gradient_check"]``: {"tensors": [parameter names],
"relative_error": [max relative error per tensor], "threshold": GRAD_FAIL}.
Thresholds were calibrated on healthy setups (spiral net, MLP and CNN on digits, LeNet-5 on
MNIST-5k, tanh and batch-norm variants; several seeds): healthy ranges are in the comments.

    from gradkit.doctor import before
    from gradkit.doctor.setup import Setup
    result, findings = before.gradient_check(Setup(model, (x, y)))
    result.value            # the largest relative error over the parameter tensors
    findings[0].layer       # the module whose backward is wrong, e.g. "features.3"
"""

import math
import time

import numpy as np

from gradkit.autograd import no_grad
from gradkit.doctor.data import loss_kind
from gradkit.doctor.findings import CheckResult, Finding, register_code
from gradkit.doctor.registry import check
from gradkit.tensor import Tensor

GRAD_SAMPLES = 4  # samples in the gradient check
GRAD_ELEMENTS = 20  # elements per parameter tensor (fewer when the model has many tensors)
GRAD_BUDGET = 300  # elements over all tensors
GRAD_SECONDS = 3.0  # and no more than fit in this time (two forwards per element)
GRAD_STEP = 1e-5  # h of the centred difference (float64)
# Max relative error of a tensor: healthy models measure <= 5e-6 (kinks skipped; before the
# KINK test was tightened, a ReLU at its kink gave 3.4e-3); wrong backwards measure 0.1 to 1. cs231n: above 1e-2 the gradient is probably
# wrong, 1e-4..1e-2 "uncomfortable", below 1e-4 fine with kinks.
GRAD_FAIL = 1e-3  # above: a warning
GRAD_ERROR = 1e-2  # above: an error
GRAD_FLOOR = 1e-6  # denominators below this·max(1, |loss|): rounding (~1e-11) dominates
# One-sided differences disagreeing by this share: a kink was crossed. Smooth losses measure
# |ahead - behind| ~ h·|f''| (~1e-5 relative); a ReLU exactly at its kink (zero biases on
# zero background pixels, a digits CNN) measured 7e-3.
KINK = 1e-4
# |loss - expected| above max(0.25, 0.5·expected): warning, above max(0.1, 0.2·expected): info.
# Healthy: zoo models (small last layer) within 0.02; default-init Linear heads up to +0.16
# (MLP) and +0.74 (a small CNN on digits, logit std 1.2, which trains fine) for C = 10.
LOSS_WARN, LOSS_INFO = 0.5, 0.2

register_code("gradient_mismatch", "error",
              f"a parameter tensor's max relative error |a - n| / max(|a|, |n|) between the "
              f"analytic and centred-difference gradient (float64, h = {GRAD_STEP:g}, "
              f"{GRAD_SAMPLES} samples) > {GRAD_ERROR:g} (error; > {GRAD_FAIL:g}: warning), "
              "kinks excluded (healthy: <= 5e-6)")
register_code("initial_loss_off", "warning",
              f"the loss at init differs from its expected value (ln C for cross-entropy, "
              f"(C - 1)·margin for the multiclass hinge) by more than max(0.25, "
              f"{LOSS_WARN:g}·expected) (above max(0.1, {LOSS_INFO:g}·expected), or below: "
              "info; healthy: within +0.74 for C = 10)")
register_code("parameters_not_updating", "warning",
              "before training: parameters with requires_grad=False (not a frozen leading "
              "block), held by no optimizer group, in a group with lr = 0, or given no "
              "gradient by the loss; in the probe run (error): a trainable parameter the "
              "optimizer holds that moved by exactly 0 on every monitored step")
register_code("symmetric_weights", "error",
              "two or more units of a hidden layer with identical incoming weights and bias "
              "(relative 1e-6; all units: error, some: warning; healthy: none)")
def _owner(param_name):
    return param_name.rsplit(".", 1)[0] if "." in param_name else ""


def forward_order(setup, model, x=None):
    """Names of ``model``'s submodules in the order their forward starts, on ``x`` (default:
    two training samples)."""
    order, handles = [], []
    for name, module in model.named_modules():
        if name:
            handles.append(module.register_forward_pre_hook(
                lambda mod, args, name=name: order.append(name)))
    try:
        with no_grad():
            setup.forward(model, setup.x[:2] if x is None else x)
    finally:
        for handle in handles:
            handle.remove()
    return list(dict.fromkeys(order))


# ----- gradient check -----
@check("gradient_check", "before_training")
def gradient_check(setup):
    """Analytic gradients against centred differences, on a float64 copy in eval mode."""
    model = setup.copy_model(np.float64)
    model.eval()  # dropout off, batch norm on its running statistics: a fixed function
    x = setup.x[:GRAD_SAMPLES].astype(np.float64)
    y = setup.y[:GRAD_SAMPLES]
    y = y.astype(np.float64) if y.dtype.kind == "f" else y
    try:
        out = setup.forward(model, x)
    except Exception as error:
        return CheckResult("skip", note=f"the float64 copy cannot run: {type(error).__name__}: "
                                        f"{error}"), []
    if out.dtype != np.float64:
        return CheckResult("skip", note=f"the model computes in {out.dtype} even as a float64 "
                                        "copy: differences would measure rounding"), []
    loss = setup.loss_fn(out, Tensor._make(y, None))
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not params or not math.isfinite(float(loss.item())):
        return CheckResult("skip", note="no trainable parameters or a non-finite loss"), []
    loss.backward()
    analytic = {n: (p.grad._data if p.grad is not None else np.zeros_like(p._data))
                for n, p in params}

    def f():
        with no_grad():
            return float(setup.loss(model, x, y).item())

    started = time.perf_counter()
    f0 = f()
    floor = GRAD_FLOOR * max(1.0, abs(f0))
    budget = min(GRAD_BUDGET, int(GRAD_SECONDS / (2 * (time.perf_counter() - started) + 1e-9)))
    rng = np.random.default_rng(setup.seed)
    per_tensor = max(1, min(GRAD_ELEMENTS, budget // len(params)))
    errors, worst, kinks, checked = {}, {}, 0, 0
    for name, p in params:
        p._data = np.ascontiguousarray(p._data)  # (a copy's array) so that reshape is a view
        flat = p._data.reshape(-1)  # perturbing it perturbs the parameter
        picks = rng.choice(flat.size, min(per_tensor, flat.size), replace=False)
        err, at = 0.0, None
        for i in picks:
            keep = flat[i]
            flat[i] = keep + GRAD_STEP
            fp = f()
            flat[i] = keep - GRAD_STEP
            fm = f()
            flat[i] = keep
            numeric = (fp - fm) / (2 * GRAD_STEP)
            ahead, behind = (fp - f0) / GRAD_STEP, (f0 - fm) / GRAD_STEP
            a = float(analytic[name].reshape(-1)[i])
            if abs(ahead - behind) > KINK * max(abs(ahead), abs(behind), floor):
                kinks += 1  # a ReLU/max kink inside [w - h, w + h]: the difference is unusable
                continue
            checked += 1
            e = abs(a - numeric) / max(abs(a), abs(numeric), floor)
            if e >= err:
                err, at = e, (np.unravel_index(i, p.shape), a, numeric)
        errors[name] = err
        worst[name] = at
    names = list(errors)
    setup.cache.setdefault("figures", {})["gradient_check"] = {
        "tensors": names, "relative_error": [errors[n] for n in names], "threshold": GRAD_FAIL}
    failing = [n for n in names if errors[n] > GRAD_FAIL]
    value = max(errors.values())
    note = f"{checked} elements in {len(names)} tensors, {kinks} at kinks skipped"
    if not failing:
        return CheckResult("pass", value, f"<= {GRAD_FAIL:g}", note), []
    layer = _culprit(forward_order(setup, model, x), model, failing)
    name = next((n for n in reversed(failing) if _owner(n) == layer), failing[-1])
    index, a, numeric = worst[name]
    kind = type(model.get_submodule(layer) if layer else model).__name__
    finding = Finding(
        "gradient_mismatch", "error" if errors[name] > GRAD_ERROR else "warning", (
            f"the gradient of {name} is wrong (relative error {errors[name]:.2g})"
            if _owner(name) == layer else f"{layer} ({kind}) passes back a wrong gradient: "
            f"{len(failing)} parameter tensors upstream fail, {name} by {errors[name]:.2g}"), {
            "parameter": name, "element": [int(i) for i in index], "analytic": a,
            "numeric": numeric, "relative_error": errors[name],
            "failing_tensors": {n: errors[n] for n in failing}, "kinks_skipped": kinks,
            "samples": int(len(x))},
        "A gradient check compares backward with centred differences (f(w+h) - f(w-h)) / 2h "
        "in float64, where a correct backward agrees to about 1e-7 (cs231n). Training with a "
        "wrong gradient follows the wrong direction: the loss stalls or drifts.",
        f"Fix the backward of {layer or 'the model'} ({kind}): check each returned gradient "
        "against its formula (gradkit.autograd.gradcheck on the Function alone).", {},
        layer or None)
    return CheckResult("fail", value, f"<= {GRAD_FAIL:g}", note), [finding]


def _culprit(order, model, failing):
    """The module to blame: where the wrong gradient enters on its way back. A wrong backward
    for a module's own weight fails there; a wrong input gradient fails every parameter
    upstream, so the culprit is downstream of the last failing module, up to the next module
    whose parameters pass. A user-written module among the candidates is preferred.
    ``order``: the module names in forward order."""
    failing_modules = {_owner(n) for n in failing}
    passing = {_owner(n) for n, _ in model.named_parameters()} - failing_modules
    positions = [order.index(m) for m in failing_modules if m in order]
    if not positions:
        return _owner(failing[-1])
    last = order[max(positions)]
    candidates = [last]
    for name in order[max(positions) + 1:]:
        if any(name.startswith(prefix + ".") for prefix in candidates[:1]):
            continue  # a child of the failing module
        candidates.append(name)
        if name in passing:
            break

    def custom(name):
        return not type(model.get_submodule(name)).__module__.startswith("gradkit.")

    return next((name for name in candidates if custom(name)), last)


# ----- initial loss -----
def _expected_loss(setup, kind):
    c = setup.num_outputs
    margin = float(getattr(setup.loss_fn, "margin", 1.0))
    if kind in ("cross_entropy", "nll") and setup.classification:
        return math.log(c), f"ln C = ln {c}"
    if kind == "hinge" and setup.classification:
        return (c - 1) * margin, f"(C - 1)·margin = {c - 1}·{margin:g}"
    if kind == "multi_margin" and setup.classification:
        return (c - 1) * margin / c, f"(C - 1)·margin / C for C = {c}"
    if kind == "bce_logits":
        return math.log(2), "ln 2"
    return None, None


@check("initial_loss", "before_training")
def initial_loss(setup):
    """The loss at initialization against its value for uniform predictions."""
    kind = loss_kind(setup.loss_fn)
    expected, formula = _expected_loss(setup, kind)
    if expected is None:
        return CheckResult("skip", note=f"no known initial value for this loss "
                                        f"({kind or 'unknown'}) and targets"), []
    model = setup.copy_model()
    n = min(len(setup.x), 512)
    measured = setup.evaluate(model, setup.x[:n], setup.y[:n])["loss"]
    model.eval()
    with no_grad():
        logits = setup.forward(model, setup.x[:n])._data
    tolerance = max(0.25, LOSS_WARN * expected)
    notable = max(0.1, LOSS_INFO * expected)
    order = forward_order(setup, model)
    owners = [_owner(name) for name, _ in model.named_parameters()]
    last = next((m for m in reversed(order) if m in owners), None)
    evidence = {"loss": measured, "expected": expected, "formula": formula,
                "difference": measured - expected, "tolerance": tolerance,
                "logit_std": float(logits.std()), "logit_max_abs": float(np.abs(logits).max()),
                "samples": n}
    value, target = measured, f"{expected:.4g} ± {notable:.2g}"
    if not math.isfinite(measured):
        return CheckResult("skip", value, target, "the initial loss is not finite (see "
                                                  "input_values and the monitor)"), []
    if abs(measured - expected) <= notable:
        return CheckResult("pass", value, target), []
    if measured < expected:
        finding = Finding(
            "initial_loss_off", "info", f"the initial loss {measured:.3g} is below the "
            f"chance value {expected:.3g}", evidence,
            "A fresh model should predict every class alike; a lower loss means it starts "
            "informed (pre-trained weights, a bias set to the class priors) or that the "
            "labels are trivial to guess.", "Nothing to do if the model is pre-trained; "
            "otherwise check the labels for leaks (e.g. sorted data).", {}, last)
    else:
        sums = getattr(setup.loss_fn, "reduction", "mean") == "sum"
        finding = Finding(
            "initial_loss_off", "warning" if measured - expected > tolerance else "info",
            f"the initial loss {measured:.3g} is above "
            f"its expected {expected:.3g} ({formula})", evidence,
            "cs231n and Karpathy: check the loss at init first. With small random weights "
            "the logits are ≈ 0 and the loss is ln C for softmax; a larger loss means large "
            f"initial logits (here std {evidence['logit_std']:.3g}): the first steps are "
            "spent shrinking them (a 'hockey stick' curve), or the loss is scaled wrongly.",
            "Use reduction='mean' in the loss." if sums else
            "Initialize the last layer with small weights N(0, 0.01²) and a zero bias "
            "(as gradkit.models do), and normalize the inputs.", {}, last)
    return CheckResult("fail", value, target, finding.title), [finding]


# ----- parameters -----
@check("trainable_parameters", "before_training")
def trainable_parameters(setup):
    """Parameters that cannot change: frozen, held by no optimizer group, lr 0, no gradient."""
    model = setup.copy_model()
    named = list(model.named_parameters())
    opt = setup.optimizer_for(model)
    held = {id(p): g["lr"] for g in opt.param_groups for p in g["params"]}
    frozen = [n for n, p in named if not p.requires_grad]
    trainable = [(n, p) for n, p in named if p.requires_grad]
    orphans = [n for n, p in trainable if id(p) not in held]
    zero_lr = [n for n, p in trainable if held.get(id(p)) == 0]
    xb, yb = setup.x[:min(len(setup.x), 16)], setup.y[:min(len(setup.x), 16)]
    if trainable:
        setup.loss(model, xb, yb).backward()
    gradless = [n for n, p in trainable if p.grad is None]
    count = {n: int(p.numel()) for n, p in named}
    findings = []

    def add(names, severity, title, why, fix):
        findings.append(Finding(
            "parameters_not_updating", severity, title,
            {"parameters": names[:20], "count": len(names),
             "scalars": sum(count[n] for n in names), "of_scalars": sum(count.values())},
            why, fix, {}, _owner(names[0]) or None))

    if frozen:  # fine-tuning freezes a leading block and trains a whole head
        head = _owner(named[-1][0])
        leading = ([n for n, _ in named[:len(frozen)]] == frozen
                   and not any(_owner(n) == head for n in frozen))
        severity = ("error" if not trainable else "info" if leading else "warning")
        add(frozen, severity, f"{len(frozen)} parameter tensors have requires_grad=False"
            + (" (a frozen leading block, as in fine-tuning)" if leading and trainable else ""),
            "A parameter with requires_grad=False gets no gradient and keeps its initial "
            "(random) values; that is right only for layers frozen on purpose.",
            "Call p.requires_grad_(True) on them (model.requires_grad_(True) for all) unless "
            "they are frozen on purpose.")
    if orphans:
        add(orphans, "error" if len(orphans) == len(trainable) else "warning",
            f"{len(orphans)} trainable parameter tensors are in no optimizer group",
            "The optimizer updates only the parameters it was given: the others keep their "
            "initial values (often the optimizer was built before a layer was added or "
            "replaced, or from one sub-module's parameters).",
            "Build the optimizer from model.parameters() after the model is complete.")
    if zero_lr:
        add(zero_lr, "warning", f"{len(zero_lr)} parameter tensors are in a group with lr = 0",
            "A learning rate of 0 leaves the parameters as they are.",
            "Give their param group a positive lr.")
    if gradless:
        add(gradless, "warning", f"{len(gradless)} trainable parameter tensors get no "
            "gradient from the loss", "A parameter that does not take part in the forward "
            "pass (an unused layer, or one cut off by detach/numpy) gets no gradient and is "
            "never trained.", "Use the layer in forward or remove it; do not leave the graph "
            "(no .detach(), .numpy() or no_grad inside forward).")
    if not findings:
        return CheckResult("pass", len(trainable), f"{len(named)} trainable"), []
    worst = min(findings, key=lambda f: ("error", "warning", "info").index(f.severity))
    return CheckResult("fail", len(trainable) - len(set(frozen + orphans + zero_lr + gradless)),
                       f"{len(named)} trainable", worst.title), findings


@check("symmetric_init", "before_training")
def symmetric_init(setup):
    """Units of a hidden layer that start with identical weights (e.g. a constant init)."""
    model = setup.copy_model()
    order = forward_order(setup, model)
    layers = [name for name in order
              if getattr(model.get_submodule(name), "weight", None) is not None
              and model.get_submodule(name).weight.ndim >= 2]
    hidden = layers[:-1]  # output units differ through their labels: zero init is fine there
    if not hidden:
        return CheckResult("skip", note="no hidden Linear/Conv layer"), []
    symmetric = {}
    for name in hidden:
        module = model.get_submodule(name)
        rows = module.weight._data.reshape(module.weight.shape[0], -1).astype(np.float64)
        bias = getattr(module, "bias", None)
        if bias is not None and bias.shape == (rows.shape[0],):
            rows = np.concatenate([rows, bias._data.astype(np.float64)[:, None]], axis=1)
        if len(rows) < 2:
            continue
        scale = np.abs(rows).max() or 1.0
        _, counts = np.unique(np.round(rows / scale, 6), axis=0, return_counts=True)
        duplicated = int(counts[counts > 1].sum())
        if duplicated:
            symmetric[name] = {"units": int(len(rows)), "identical": duplicated,
                               "distinct": int(len(counts))}
    if not symmetric:
        return CheckResult("pass", 0, 0, f"{len(hidden)} hidden layers"), []
    first = next(iter(symmetric))
    entirely = any(s["distinct"] == 1 for s in symmetric.values())
    s = symmetric[first]
    finding = Finding(
        "symmetric_weights", "error" if entirely else "warning",
        f"{s['identical']} of the {s['units']} units of {first} start with identical weights",
        {"layers": symmetric},
        "cs231n: units with the same weights compute the same output, get the same gradient "
        "and the same update, so they stay copies of each other for ever; the layer acts as "
        "one unit. Random initialization breaks the symmetry.",
        "Initialize the weights randomly (nn.init.kaiming_normal_ for ReLU, xavier_normal_ for "
        "tanh), not with a constant or zeros.", {}, first)
    return CheckResult("fail", len(symmetric), 0, finding.title), [finding]

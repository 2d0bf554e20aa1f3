"""Fixes that are tried: each finding's ``overrides`` applied to the configuration, the probe
and the checks that failed re-run, and the symptom looked for again.

    report = doctor.examine(model, train, optimizer=optim.SGD(model.parameters(), lr=100))
    for fix in report.try_fixes():
        print(fix["code"], fix["overrides"], fix["cured"], fix["before"], fix["after"])

One dict per finding with overrides, in report order:

    {"code": "lr_too_high", "overrides": {"optimizer.lr": 0.1},
     "applied": True, "reason": "",             # why not, when an override does not apply
     "before": {"train_loss": 1.2e7, "lr_range_test": 100.0, ...},
     "after": {"train_loss": 0.31, "lr_range_test": 0.1, ...},
     "cured": True,       # the code is gone from the re-run's findings, no re-run check skipped
     "new": ["..."],      # error/warning codes the fix brought in
     "skipped": []}       # re-run checks that skipped (then the fix is not called a cure)

``before``/``after``: each re-run check's measured value (when a number) and the probe's last
evaluation (train_loss, train_accuracy, val_loss, val_accuracy). The re-run is the checks
whose status was 'fail' (the ones that produced the findings; what they share, such as the
probe run, is made afresh) on a fresh Setup with ``steps`` probe steps (default the
report's); findings with the same overrides share one re-run. Overrides, in the run config's names:

* ``optimizer.<hyper-parameter>`` (lr, momentum, weight_decay, betas, ...): set in every
  param group of the user's optimizer; one the optimizer does not have is not applied;
* ``optimizer.name`` (sgd, adam, adamw, rmsprop, adagrad): that class, same param groups,
  with the groups' lr and weight_decay;
* ``batch_size``;
* ``preprocessing.name`` (standardize, pca, whiten, none): fitted on the training data only,
  applied to train and validation;
* ``regularization.dropout``: p of every nn.Dropout of the model (not applied without one).
"""

import copy

import numpy as np

from gradkit import nn, random as gk_random
from gradkit.doctor import registry
from gradkit.doctor.findings import CheckResult
from gradkit.doctor.setup import Setup
from gradkit.doctor.variants import optimizer_kwargs

_PROBE_KEYS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")


class NotApplicable(Exception):
    """An override that cannot be applied to this configuration (the message says why)."""


def try_fixes(report, steps=None):
    """Try every finding's overrides on ``report``'s configuration (see the module
    docstring); returns the list of dicts. The report, the user's model and the global
    random state are unchanged."""
    rng_state, np_state = gk_random.get_rng_state(), np.random.get_state()
    try:
        return _try_fixes(report, steps)
    finally:
        gk_random.set_rng_state(rng_state)
        np.random.set_state(np_state)


def _try_fixes(report, steps):
    setup = report.setup
    fixable = [f for f in report.findings if f.overrides]
    if setup is None:
        return [_not_applied(f, "this report has no configuration to re-run (a post-hoc "
                                "diagnosis of a finished run): re-train with the overrides, "
                                "e.g. gradkit train --set " + _flags(f.overrides))
                for f in fixable]
    names = [name for name, r in report.checks.items() if r.status == "fail"]
    steps = setup.steps if steps is None else int(steps)
    if steps == setup.steps:
        before = _measure(setup, report.checks)
    else:
        before = _measure(*_rerun(apply_overrides(setup, {}, steps), names)[:2])
    out, reruns = [], {}  # findings with the same overrides share one re-run
    for finding in fixable:
        key = _flags(finding.overrides)
        if key not in reruns:
            try:
                fixed = apply_overrides(setup, finding.overrides, steps)
            except NotApplicable as why:
                reruns[key] = str(why)
            else:
                fixed.log(f"doctor: trying {key} for {finding.code}")
                reruns[key] = _rerun(fixed, names)
        if isinstance(reruns[key], str):
            out.append(_not_applied(finding, reruns[key]))
            continue
        fixed_setup, results, findings = reruns[key]
        codes = {f.code for f in findings if f.severity in ("error", "warning")}
        skipped = sorted(n for n, r in results.items() if r.status == "skip")
        out.append({"code": finding.code, "overrides": dict(finding.overrides),
                    "applied": True, "reason": "", "before": before,
                    "after": _measure(fixed_setup, results),
                    "cured": finding.code not in codes and not skipped,
                    "new": sorted(codes - set(report.codes())), "skipped": skipped})
    return out


def _not_applied(finding, reason):
    return {"code": finding.code, "overrides": dict(finding.overrides), "applied": False,
            "reason": reason, "before": {}, "after": {}, "cured": False, "new": [],
            "skipped": []}


def _flags(overrides):
    return " ".join(f"{k}={v}" for k, v in overrides.items())


def _rerun(setup, names):
    """(setup, {name: CheckResult}, findings) of the checks ``names`` on ``setup``, as
    ``examine`` runs them (a check that raises is a 'skip'; later checks see the findings
    so far in ``setup.cache["findings"]``)."""
    results, findings = {}, []
    setup.cache["findings"] = findings
    for chk in registry.ordered(names):
        try:
            result, found = chk.fn(setup)
        except Exception as error:  # noqa: BLE001 (as examine: one broken check hides nothing)
            result, found = CheckResult("skip", note=f"the check itself failed: "
                                                     f"{type(error).__name__}: {error}"), []
        results[chk.name] = result
        findings.extend(found)
    return setup, results, findings


def _measure(setup, results):
    """{check name: its numeric value} and the probe's last evaluation, when it ran."""
    out = {name: float(r.value) for name, r in results.items()
           if isinstance(r.value, (int, float)) and not isinstance(r.value, bool)}
    probe = setup.cache.get("probe")  # doctor.training.Probe, when a re-run check made it
    evals = probe.evals if probe is not None else {}
    out.update({key: evals[key][-1] for key in _PROBE_KEYS if evals.get(key)})
    return out


# ----- applying overrides -----

def apply_overrides(setup, overrides, steps=None):
    """A new Setup: ``setup``'s configuration with ``overrides`` (run-config names, see the
    module docstring) applied to copies; raises NotApplicable naming the override that does
    not fit this configuration."""
    overrides = dict(overrides)
    model = setup.model
    x, y, x_val, y_val = setup.x, setup.y, setup.x_val, setup.y_val
    batch_size = int(overrides.pop("batch_size", setup.batch_size))
    if "preprocessing.name" in overrides:
        x, x_val = _preprocess(overrides.pop("preprocessing.name"), x, x_val)
    if "regularization.dropout" in overrides:
        model = _with_dropout(model, float(overrides.pop("regularization.dropout")))
    name = overrides.pop("optimizer.name", None)
    hyper = {}
    for key in list(overrides):
        if key.startswith("optimizer."):
            hyper[key[len("optimizer."):]] = overrides.pop(key)
    if overrides:
        raise NotApplicable(f"the doctor cannot apply {', '.join(sorted(overrides))} to a "
                            "model object; set it in the run config and re-train")
    optimizer = _optimizer_spec(setup, model, name, hyper)
    return Setup(model, (x, y), None if x_val is None else (x_val, y_val), setup.loss_fn,
                 optimizer, batch_size, setup.steps if steps is None else steps, setup.seed,
                 setup.log)


def _preprocess(name, x, x_val):
    from gradkit.config import preprocessor_class
    from gradkit.config.schema import PREPROCESSORS

    if name not in PREPROCESSORS:
        raise NotApplicable(f"preprocessing.name={name!r}: known are "
                            f"{', '.join(PREPROCESSORS)}")
    cls = preprocessor_class(name)
    if cls is None:
        return x, x_val
    pre = cls().fit(x)
    return pre.transform(x), None if x_val is None else pre.transform(x_val)


def _with_dropout(model, p):
    model = copy.deepcopy(model)
    layers = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    if not layers:
        raise NotApplicable(f"regularization.dropout={p:g}: the model has no nn.Dropout layer; "
                            "add nn.Dropout(p) after its hidden activations")
    for layer in layers:
        layer.p = p
    return model


def _optimizer_spec(setup, model, name, hyper):
    """A callable params -> Optimizer: the user's optimizer (or the class ``name``) with its
    param groups mapped onto the new parameters and ``hyper`` set in every group."""
    shadow = setup.copy_model()
    base = setup.optimizer_for(shadow)
    if name is not None:
        from gradkit.config import optimizer_class
        from gradkit.config.schema import OPTIMIZERS

        if name not in OPTIMIZERS:
            raise NotApplicable(f"optimizer.name={name!r}: known are {', '.join(OPTIMIZERS)}")
        cls = optimizer_class(name)
        keep = {"lr", "weight_decay"}
    else:
        cls, keep = type(base), None
    defaults = optimizer_kwargs(cls, base.defaults if keep is None
                                else {"lr": base.param_groups[0]["lr"]})
    accepted = cls([nn.Parameter(np.zeros(1, np.float32))], **defaults).defaults
    unknown = sorted(set(hyper) - set(accepted))
    if unknown:
        raise NotApplicable(f"{cls.__name__} has no hyper-parameter {', '.join(unknown)} "
                            f"(its hyper-parameters: {', '.join(sorted(accepted))})")
    position = {id(p): i for i, p in enumerate(shadow.parameters())}
    groups = [({k: v for k, v in g.items() if k != "params" and (keep is None or k in keep
                                                                  and k in accepted)},
               [position[id(p)] for p in g["params"]]) for g in base.param_groups]

    def make(params):
        params = list(params)
        return cls([{**options, **hyper, "params": [params[i] for i in where]}
                    for options, where in groups], **{**defaults, **hyper})

    return make

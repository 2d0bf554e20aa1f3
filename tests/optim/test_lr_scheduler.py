"""Learning-rate schedules against torch.optim.lr_scheduler: the lr (and momentum) of every
param group over 100 steps equals PyTorch's."""

import copy
import inspect
import math

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as tsched

import gradkit as gk
from gradkit import optim
from gradkit.optim import lr_scheduler as gsched

STEPS = 100


def make_opts(name="SGD", **kwargs):
    """The same optimizer in both frameworks, two param groups (lr 0.1 and 0.01)."""
    kwargs.setdefault("lr", 0.1)
    g = [gk.tensor(np.ones(2), requires_grad=True) for _ in range(2)]
    t = [torch.ones(2, dtype=torch.float64, requires_grad=True) for _ in range(2)]
    gk_opt = getattr(optim, name)([{"params": [g[0]]}, {"params": [g[1]], "lr": 0.01}], **kwargs)
    torch_opt = getattr(torch.optim, name)([{"params": [t[0]]}, {"params": [t[1]], "lr": 0.01}],
                                           **kwargs)
    return gk_opt, torch_opt


def momenta(opt):
    key = "betas" if "betas" in opt.defaults else "momentum"
    return [g[key][0] if key == "betas" else g[key] for g in opt.param_groups]


def run(opt, sched, steps=STEPS, metrics=None, track_momentum=False):
    """Lrs (and momenta) after construction and after each of `steps` scheduler steps."""
    seq = [list(sched.get_last_lr()) + (momenta(opt) if track_momentum else [])]
    for i in range(steps):
        opt.step()
        sched.step(metrics[i]) if metrics is not None else sched.step()
        lrs = [g["lr"] for g in opt.param_groups]
        assert lrs == list(sched.get_last_lr())
        seq.append(lrs + (momenta(opt) if track_momentum else []))
    return np.array(seq)


def compare(name, args, kwargs, opt="SGD", opt_kwargs=None, steps=STEPS, momentum=False):
    gk_opt, torch_opt = make_opts(opt, **(opt_kwargs or {}))
    ours = run(gk_opt, getattr(gsched, name)(gk_opt, *args, **kwargs), steps,
               track_momentum=momentum)
    theirs = run(torch_opt, getattr(tsched, name)(torch_opt, *args, **kwargs), steps,
                 track_momentum=momentum)
    np.testing.assert_array_equal(ours, theirs)
    return ours


CASES = [
    ("StepLR", (7,), dict(gamma=0.5)),
    ("MultiStepLR", ([10, 30, 30, 60],), dict(gamma=0.3)),
    ("ExponentialLR", (0.95,), {}),
    ("CosineAnnealingLR", (30,), dict(eta_min=0.001)),
    ("CosineAnnealingLR", (100,), {}),
    ("LinearLR", (), dict(start_factor=0.1, total_iters=10)),
    ("LinearLR", (), dict(start_factor=1.0, end_factor=0.05, total_iters=60)),
    ("LinearLR", (), {}),
]


@pytest.mark.parametrize("name,args,kwargs", CASES, ids=[c[0] for c in CASES])
def test_lr_sequence_equals_torch(name, args, kwargs):
    lrs = compare(name, args, kwargs)
    assert len(np.unique(lrs[:, 0])) > 2  # the schedule really changes the lr


@pytest.mark.parametrize("kwargs,opt,opt_kwargs", [
    (dict(max_lr=1.0, total_steps=STEPS), "SGD", dict(momentum=0.9)),
    (dict(max_lr=[1.0, 0.3], epochs=10, steps_per_epoch=10, pct_start=0.25,
          anneal_strategy="linear"), "SGD", dict(momentum=0.9, nesterov=True)),
    (dict(max_lr=0.5, total_steps=STEPS, three_phase=True, div_factor=10.0), "Adam", {}),
    (dict(max_lr=0.5, total_steps=STEPS, base_momentum=[0.8, 0.7], max_momentum=0.9),
     "RMSprop", dict(momentum=0.5)),
    (dict(max_lr=0.5, total_steps=STEPS, cycle_momentum=False), "Adagrad", {}),
])
def test_one_cycle_lr_and_momentum_equal_torch(kwargs, opt, opt_kwargs):
    seq = compare("OneCycleLR", (), kwargs, opt, opt_kwargs, momentum=opt != "Adagrad")
    assert seq[:, 0].max() == pytest.approx(np.max(kwargs["max_lr"]))


def test_one_cycle_defaults_equal_torch():
    sig = inspect.signature(gsched.OneCycleLR.__init__).parameters
    tsig = inspect.signature(tsched.OneCycleLR.__init__).parameters
    assert [(p.name, p.default) for p in sig.values()] == [
        (p.name, p.default) for p in tsig.values()]


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
                                  "LinearLR", "SequentialLR", "ReduceLROnPlateau", "LambdaLR"])
def test_signature_equals_torch(name):
    def params(cls):
        return [(p.name, p.default) for p in inspect.signature(cls.__init__).parameters.values()]
    assert params(getattr(gsched, name)) == params(getattr(tsched, name))


def _warmup_cosine(mod, opt):
    warm = mod.LinearLR(opt, start_factor=0.1, total_iters=5)
    cos = mod.CosineAnnealingLR(opt, T_max=95, eta_min=1e-4)
    return mod.SequentialLR(opt, [warm, cos], milestones=[5])


def _three_stage(mod, opt):
    stages = [mod.LinearLR(opt, start_factor=0.5, total_iters=3),
              mod.ExponentialLR(opt, gamma=0.9), mod.StepLR(opt, step_size=10, gamma=0.5)]
    return mod.SequentialLR(opt, stages, milestones=[10, 40])


@pytest.mark.parametrize("build", [_warmup_cosine, _three_stage])
def test_sequential_lr_equals_torch(build):
    gk_opt, torch_opt = make_opts()
    ours = run(gk_opt, build(gsched, gk_opt))
    theirs = run(torch_opt, build(tsched, torch_opt))
    np.testing.assert_array_equal(ours, theirs)


def test_warmup_then_cosine_shape():
    gk_opt, _ = make_opts()
    lrs = run(gk_opt, _warmup_cosine(gsched, gk_opt))[:, 0]
    np.testing.assert_allclose(lrs[:6], [0.01, 0.028, 0.046, 0.064, 0.082, 0.1], rtol=1e-12)
    assert np.all(np.diff(lrs[5:]) < 0)
    assert lrs[-1] == pytest.approx(1e-4)


METRIC = [10, 9, 8, 8, 8.0005, 8, 8, 8, 7, 7, 7, 7, 7, 7, 7, 6.9999, 7, 7, 7, 7] * 5
PLATEAU_CASES = [
    dict(),
    dict(patience=2),
    dict(patience=0, cooldown=3, factor=0.5),
    dict(patience=1, threshold=0.1, threshold_mode="abs", min_lr=[0.01, 0.005]),
    dict(patience=2, threshold_mode="rel", threshold=1e-2, min_lr=0.02, eps=1e-3),
    dict(mode="max", patience=1),
    dict(mode="max", patience=3, threshold_mode="abs", cooldown=2, factor=0.3),
]


@pytest.mark.parametrize("kwargs", PLATEAU_CASES)
def test_reduce_lr_on_plateau_equals_torch(kwargs):
    metric = [-m for m in METRIC] if kwargs.get("mode") == "max" else METRIC
    gk_opt, torch_opt = make_opts()
    ours_sched = gsched.ReduceLROnPlateau(gk_opt, **kwargs)
    theirs_sched = tsched.ReduceLROnPlateau(torch_opt, **kwargs)
    ours = run(gk_opt, ours_sched, metrics=metric)
    theirs = run(torch_opt, theirs_sched, metrics=metric)
    np.testing.assert_array_equal(ours, theirs)
    assert len(np.unique(ours[:, 0])) > 1
    assert (ours_sched.best, ours_sched.num_bad_epochs, ours_sched.cooldown_counter) == (
        theirs_sched.best, theirs_sched.num_bad_epochs, theirs_sched.cooldown_counter)


def test_reduce_lr_on_plateau_scripted():
    """patience=2: the third epoch in a row without improvement cuts the lr."""
    opt, _ = make_opts()
    sched = gsched.ReduceLROnPlateau(opt, patience=2, factor=0.5)
    lrs = run(opt, sched, steps=8, metrics=[5, 4, 4, 4, 4, 3, 3.5, 3.2])[:, 0]
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05])


def test_inverse_time_lr_is_the_notes_1_over_t_decay():
    gk_opt, torch_opt = make_opts()
    ours = run(gk_opt, gsched.InverseTimeLR(gk_opt, k=0.5))
    theirs = run(torch_opt, tsched.LambdaLR(torch_opt, lambda t: 1 / (1 + 0.5 * t)))
    np.testing.assert_allclose(ours, theirs, rtol=1e-15)
    np.testing.assert_allclose(ours[:, 1], 0.01 / (1 + 0.5 * np.arange(STEPS + 1)), rtol=1e-15)


def test_lambda_lr_equals_torch():
    gk_opt, torch_opt = make_opts()
    fns = [lambda t: 0.9 ** t, lambda t: 1.0 / (t + 1)]
    np.testing.assert_allclose(run(gk_opt, gsched.LambdaLR(gk_opt, fns)),
                               run(torch_opt, tsched.LambdaLR(torch_opt, fns)), rtol=1e-15)


@pytest.mark.parametrize("strategy", ["linear", "cos"])
@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_momentum_schedule(strategy, opt_name):
    opt, _ = make_opts(opt_name, **({"momentum": 0.9} if opt_name == "SGD" else {}))
    sched = gsched.MomentumScheduler(opt, 0.5, 0.99, total_iters=10, anneal_strategy=strategy)
    seen = [sched.get_last_momentum()[0]]
    for _ in range(15):
        opt.step()
        sched.step()
        assert momenta(opt) == sched.get_last_momentum()
        seen.append(momenta(opt)[0])
    pct = np.minimum(np.arange(16), 10) / 10
    expected = (0.5 + 0.49 * pct if strategy == "linear"
                else 0.99 + (0.5 - 0.99) * (1 + np.cos(np.pi * pct)) / 2)
    np.testing.assert_allclose(seen, expected, rtol=1e-14)
    assert sched.get_last_lr() == [0.1, 0.01]
    if opt_name == "Adam":
        assert opt.param_groups[0]["betas"][1] == 0.999


def _scheduler_builders():
    return {
        "StepLR": lambda o: gsched.StepLR(o, 7, gamma=0.5),
        "CosineAnnealingLR": lambda o: gsched.CosineAnnealingLR(o, 30, eta_min=0.001),
        "LinearLR": lambda o: gsched.LinearLR(o, 0.1, total_iters=50),
        "OneCycleLR": lambda o: gsched.OneCycleLR(o, 1.0, total_steps=STEPS),
        "SequentialLR": lambda o: _warmup_cosine(gsched, o),
        "MultiStepLR": lambda o: gsched.MultiStepLR(o, [20, 50, 70]),
    }


@pytest.mark.parametrize("name", list(_scheduler_builders()))
def test_state_dict_mid_run_continues_identically(name):
    build = _scheduler_builders()[name]
    opt, _ = make_opts(momentum=0.9)
    sched = build(opt)
    first = run(opt, sched, steps=40)
    saved_opt = copy.deepcopy(opt.state_dict())
    saved_sched = copy.deepcopy(sched.state_dict())
    rest = run(opt, sched, steps=60)

    fresh_opt, _ = make_opts(momentum=0.9)
    fresh_sched = build(fresh_opt)
    fresh_sched.load_state_dict(saved_sched)
    fresh_opt.load_state_dict(saved_opt)
    np.testing.assert_array_equal(run(fresh_opt, fresh_sched, steps=60), rest)
    assert first[-1].tolist() == rest[0].tolist()


def test_resume_with_last_epoch_equals_torch():
    gk_opt, torch_opt = make_opts()
    for opt in (gk_opt, torch_opt):
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"]
    ours = run(gk_opt, gsched.CosineAnnealingLR(gk_opt, 40, last_epoch=10), steps=50)
    theirs = run(torch_opt, tsched.CosineAnnealingLR(torch_opt, 40, last_epoch=10), steps=50)
    np.testing.assert_array_equal(ours, theirs)


def test_step_to_epoch_uses_the_closed_form():
    opt, _ = make_opts()
    sched = gsched.StepLR(opt, 10, gamma=0.5)
    sched.step(25)
    assert sched.get_last_lr() == [0.1 * 0.25, 0.01 * 0.25]
    sched = gsched.CosineAnnealingLR(opt, 40)
    sched.step(10)
    assert sched.get_last_lr()[0] == pytest.approx(0.1 * (1 + math.cos(math.pi / 4)) / 2)


def test_bad_input():
    opt, torch_opt = make_opts()
    with pytest.raises(TypeError, match="is not an Optimizer"):
        gsched.StepLR(torch_opt, 5)
    with pytest.raises(KeyError, match="initial_lr"):
        gsched.StepLR(opt, 5, last_epoch=3)
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        gsched.SequentialLR(opt, [gsched.ReduceLROnPlateau(opt)], milestones=[])
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        gsched.SequentialLR(opt, [gsched.StepLR(opt, 5)], milestones=[3])
    with pytest.raises(ValueError, match="momentum or beta1"):
        gsched.OneCycleLR(optim.LBFGS([gk.tensor(np.ones(2), requires_grad=True)]), 1.0, 10)
    with pytest.raises(ValueError, match="total_steps OR"):
        gsched.OneCycleLR(opt, 1.0)
    one_cycle = gsched.OneCycleLR(opt, 1.0, total_steps=3)
    for _ in range(3):
        one_cycle.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        one_cycle.step()
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        gsched.ReduceLROnPlateau(opt, factor=2.0)

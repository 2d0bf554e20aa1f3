"""The doctor's checks before training: each finding code on a tiny broken setup, and the
same setup repaired giving no finding (digits, the spiral)."""

import math

import pytest

import gradkit as gk
from gradkit import doctor, models, nn, optim
from gradkit.autograd.function import Function
from gradkit.data import datasets
from gradkit.doctor import before as checks
from gradkit.doctor import fitting
from gradkit.doctor.setup import Setup
from gradkit.nn import functional as F
from gradkit.optim.optimizer import Optimizer


@pytest.fixture(scope="module")
def digits():
    d = datasets.digits(flatten=True)
    return d.x[:300].copy(), d.y[:300].copy()


@pytest.fixture(scope="module")
def spiral():
    d = datasets.spiral()
    return d.x, d.y


def mlp(inputs=64, outputs=10, hidden=32, seed=0, middle=None):
    gk.manual_seed(seed)
    return nn.Sequential(nn.Linear(inputs, hidden), middle or nn.ReLU(),
                         nn.Linear(hidden, outputs))


def run(fn, model, train, **kwargs):
    return fn(Setup(model, train, **kwargs))


def codes(findings):
    return [(f.code, f.severity) for f in findings]


# ----- gradient check -----
class LinearFn(Function):
    """y = x Wᵀ + b, with a weight gradient off by ``scale`` (1: correct)."""

    def forward(self, x, w, b, scale=1.0):
        self.x, self.w, self.scale = x, w, scale
        return x @ w.T + b

    def backward(self, g):
        return g @ self.w, self.scale * (g.T @ self.x), g.sum(axis=0)


class MyLinear(nn.Linear):
    def __init__(self, i, o, scale):
        super().__init__(i, o)
        self.scale = scale

    def forward(self, x):
        return LinearFn.apply(x, self.weight, self.bias, scale=self.scale)


class ReLUFn(Function):
    def forward(self, x, leak_grad=False):
        self.mask, self.leak = x > 0, leak_grad
        return x * self.mask

    def backward(self, g):
        return g if self.leak else g * self.mask  # leak_grad: passes gradient through x < 0


class MyReLU(nn.Module):
    def __init__(self, wrong):
        super().__init__()
        self.wrong = wrong

    def forward(self, x):
        return ReLUFn.apply(x, leak_grad=self.wrong)


def test_wrong_weight_gradient_of_a_custom_function_names_the_layer(digits):
    gk.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), MyLinear(16, 10, scale=2.0))
    report = doctor.examine(model, digits, checks=["gradient_check"], progress=False)
    [finding] = report.findings
    assert (finding.code, finding.severity, finding.layer) == ("gradient_mismatch", "error", "2")
    assert finding.evidence["parameter"] == "2.weight"
    assert finding.evidence["relative_error"] == pytest.approx(0.5, rel=1e-4)  # |2a - a| / 2a
    assert finding.evidence["analytic"] == pytest.approx(2 * finding.evidence["numeric"])
    assert set(finding.evidence["failing_tensors"]) == {"2.weight"}
    assert report.figures["gradient_check"]["tensors"] == ["0.weight", "0.bias", "2.weight",
                                                           "2.bias"]
    gk.manual_seed(0)
    fixed = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), MyLinear(16, 10, scale=1.0))
    result, findings = run(checks.gradient_check, fixed, digits)
    assert findings == [] and result.status == "pass" and result.value < 1e-6


def test_wrong_input_gradient_of_a_parameterless_module_is_blamed_on_it(digits):
    result, findings = run(checks.gradient_check, mlp(middle=MyReLU(wrong=True)), digits)
    [finding] = findings
    assert finding.layer == "1"  # the custom ReLU, not the Linear upstream whose grads fail
    assert finding.title.startswith("1 (MyReLU) passes back a wrong gradient")
    assert set(finding.evidence["failing_tensors"]) <= {"0.weight", "0.bias"}
    result, findings = run(checks.gradient_check, mlp(middle=MyReLU(wrong=False)), digits)
    assert findings == [] and result.status == "pass"


def test_gradient_check_passes_healthy_models_with_dropout_and_batch_norm(digits):
    x, y = digits
    gk.manual_seed(1)
    model = models.mlp(64, hidden=(32, 16), num_classes=10, dropout=0.5)
    result, _ = run(checks.gradient_check, model, digits)
    assert result.status == "pass" and result.value < 1e-5
    gk.manual_seed(2)
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 10))
    result, _ = run(checks.gradient_check, cnn, (x.reshape(-1, 1, 8, 8), y))
    assert result.status == "pass" and result.value < 1e-5
    assert "kinks skipped" in result.note


# ----- initial loss -----
def test_large_last_layer_gives_initial_loss_off(digits):
    model = mlp()
    model[2].weight._data *= 30
    report = doctor.examine(model, digits, checks=["initial_loss"], progress=False)
    [finding] = report.findings
    assert (finding.code, finding.severity, finding.layer) == ("initial_loss_off", "warning",
                                                               "2")
    assert finding.evidence["expected"] == pytest.approx(math.log(10))
    assert finding.evidence["loss"] > 5 and finding.evidence["logit_std"] > 3
    assert "N(0, 0.01²)" in finding.fix
    gk.manual_seed(0)
    result, findings = run(checks.initial_loss, models.mlp(64, hidden=(32,), num_classes=10),
                           digits)
    assert findings == [] and abs(result.value - math.log(10)) < 0.05


def test_initial_hinge_loss_is_c_minus_one(digits):
    gk.manual_seed(0)
    model = models.mlp(64, hidden=(32,), num_classes=10)
    result, findings = run(checks.initial_loss, model, digits,
                           loss_fn=F.multiclass_hinge_loss)
    assert findings == [] and result.value == pytest.approx(9.0, abs=0.2)
    model.layers[-1].weight._data *= 300
    _, findings = run(checks.initial_loss, model, digits, loss_fn=F.multiclass_hinge_loss)
    assert codes(findings) == [("initial_loss_off", "warning")]
    assert findings[0].evidence["expected"] == 9.0


def test_summed_loss_is_initial_loss_off_with_the_reduction_fix(digits):
    gk.manual_seed(0)
    model = models.mlp(64, hidden=(32,), num_classes=10)
    _, findings = run(checks.initial_loss, model, digits,
                      loss_fn=nn.CrossEntropyLoss(reduction="sum"))
    assert codes(findings) == [("initial_loss_off", "warning")]
    assert "reduction='mean'" in findings[0].fix


# ----- parameters -----
def test_frozen_layer_is_parameters_not_updating(digits):
    model = mlp()
    model[2].weight.requires_grad_(False)
    report = doctor.examine(model, digits, checks=["trainable_parameters"], progress=False)
    [finding] = report.findings
    assert (finding.code, finding.severity, finding.layer) == ("parameters_not_updating",
                                                               "warning", "2")
    assert finding.evidence["parameters"] == ["2.weight"] and finding.evidence["scalars"] == 320
    result, findings = run(checks.trainable_parameters, mlp(), digits)
    assert findings == [] and result.status == "pass" and result.value == 4


def test_a_fully_frozen_model_is_an_error(digits):
    _, findings = run(checks.trainable_parameters, mlp().requires_grad_(False), digits)
    assert codes(findings) == [("parameters_not_updating", "error")]
    assert findings[0].evidence["count"] == 4


def test_frozen_leading_block_is_only_an_info(digits):
    model = mlp()
    model[0].requires_grad_(False)
    _, findings = run(checks.trainable_parameters, model, digits)
    assert codes(findings) == [("parameters_not_updating", "info")]
    assert "fine-tuning" in findings[0].title


def test_parameters_missing_from_the_optimizer(digits):
    model = mlp()
    opt = optim.SGD(model[2].parameters(), lr=0.1)
    _, findings = run(checks.trainable_parameters, model, digits, optimizer=opt)
    assert codes(findings) == [("parameters_not_updating", "warning")]
    assert findings[0].evidence["parameters"] == ["0.weight", "0.bias"]
    assert findings[0].layer == "0"


class Unused(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.spare = mlp(), nn.Linear(4, 4)

    def forward(self, x):
        return self.body(x)


def test_parameters_without_gradient(digits):
    _, findings = run(checks.trainable_parameters, Unused(), digits)
    assert codes(findings) == [("parameters_not_updating", "warning")]
    assert findings[0].evidence["parameters"] == ["spare.weight", "spare.bias"]
    assert "no gradient" in findings[0].title


# ----- symmetry -----
def test_constant_init_is_symmetric_weights(digits):
    model = mlp()
    nn.init.constant_(model[0].weight, 0.05)
    nn.init.zeros_(model[0].bias)
    report = doctor.examine(model, digits, checks=["symmetric_init"], progress=False)
    [finding] = report.findings
    assert (finding.code, finding.severity, finding.layer) == ("symmetric_weights", "error",
                                                               "0")
    assert finding.evidence["layers"]["0"] == {"units": 32, "identical": 32, "distinct": 1}
    model = mlp()
    nn.init.zeros_(model[2].weight)  # a zero output layer is fine: labels break the symmetry
    result, findings = run(checks.symmetric_init, model, digits)
    assert findings == [] and result.status == "pass"


def test_two_identical_units_are_a_warning(digits):
    model = mlp()
    model[0].weight._data[1] = model[0].weight._data[0]
    model[0].bias._data[1] = model[0].bias._data[0]
    _, findings = run(checks.symmetric_init, model, digits)
    assert codes(findings) == [("symmetric_weights", "warning")]
    assert findings[0].evidence["layers"]["0"]["identical"] == 2


# ----- overfitting a tiny subset -----
def test_linear_model_cannot_overfit_the_spiral(spiral):
    gk.manual_seed(0)
    report = doctor.examine(nn.Linear(2, 3), spiral, optimizer=lambda p: optim.Adam(p, lr=1e-2),
                            checks=["overfit_tiny"], progress=False)
    [finding] = report.findings
    assert (finding.code, finding.severity) == ("cannot_overfit", "error")
    assert finding.evidence["samples"] == 20 and finding.evidence["loss_moved"] is True
    assert finding.evidence["accuracy"] < 0.9
    assert [t["lr"] for t in finding.evidence["tried"]] == [pytest.approx(0.1),
                                                            pytest.approx(1e-3)]
    gk.manual_seed(0)
    result, findings = run(fitting.overfit_tiny, models.mlp(2, hidden=(100,), num_classes=3),
                           spiral, optimizer=lambda p: optim.Adam(p, lr=1e-2))
    assert findings == [] and result.value >= 0.95


def test_too_low_lr_overfits_with_a_larger_one(digits):
    opt = lambda p: optim.SGD(p, lr=1e-3, momentum=0.9)  # noqa: E731
    _, findings = run(fitting.overfit_tiny, models.mlp(64, hidden=(64,), num_classes=10),
                      digits, optimizer=opt)
    [finding] = findings
    assert finding.code == "cannot_overfit" and finding.overrides == {"optimizer.lr": 0.01}
    assert finding.severity == "info"  # the loss moved: slow, not broken


def test_strong_weight_decay_blocks_overfitting(digits):
    gk.manual_seed(0)
    opt = lambda p: optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=3.0)  # noqa: E731
    _, findings = run(fitting.overfit_tiny, models.mlp(64, hidden=(64,), num_classes=10),
                      digits, optimizer=opt)
    assert codes(findings) == [("regularization_too_strong", "warning")]
    assert findings[0].overrides == {"optimizer.weight_decay": 0.0}


# ----- regularization -----
class PlainSGD(Optimizer):
    """SGD that accepts weight_decay and ignores it."""

    def __init__(self, params, lr=0.1, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay))

    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p._data -= group["lr"] * p.grad._data


def test_ignored_weight_decay_is_regularization_ineffective(digits):
    report = doctor.examine(mlp(), digits, optimizer=lambda p: PlainSGD(p, 0.05, 5e-4),
                            checks=["regularization"], progress=False)
    [finding] = report.findings
    assert (finding.code, finding.severity) == ("regularization_ineffective", "warning")
    assert abs(finding.evidence["weight_norm_shrink"]) < 1e-9
    result, findings = run(fitting.regularization, mlp(), digits,
                           optimizer=lambda p: optim.SGD(p, lr=0.05, weight_decay=5e-4))
    assert findings == [] and result.value > 0.1


def test_decoupled_weight_decay_is_measured_on_the_weights(digits):
    result, findings = run(fitting.regularization, mlp(), digits,
                           optimizer=lambda p: optim.AdamW(p, lr=1e-3))
    assert findings == [] and result.status == "pass" and "decoupled" in result.note
    assert result.value > 0.05


def test_penalty_above_the_data_loss_is_regularization_too_strong(digits):
    result, findings = run(fitting.regularization, mlp(), digits,
                           optimizer=lambda p: optim.SGD(p, lr=0.05, weight_decay=10.0))
    assert codes(findings) == [("regularization_too_strong", "warning")]
    assert findings[0].evidence["penalty_ratio"] > 1
    assert findings[0].overrides == {"optimizer.weight_decay": 1.0}


class Float32Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = mlp()

    def forward(self, x):
        return self.body(x).float()  # computes its output in float32 whatever the weights


def test_gradient_check_skips_a_model_that_stays_float32(digits):
    result, findings = run(checks.gradient_check, Float32Head(), digits)
    assert result.status == "skip" and "float32" in result.note and findings == []


def test_weight_decay_found_by_overfitting_is_reported_once(digits):
    opt = lambda p: optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=3.0)  # noqa: E731
    report = doctor.examine(models.mlp(64, hidden=(64,), num_classes=10), digits,
                            optimizer=opt, checks=["overfit_tiny", "regularization"],
                            progress=False)
    assert codes(report.findings) == [("regularization_too_strong", "warning")]
    assert report.checks["regularization"].status == "pass"


def test_a_frozen_head_is_not_fine_tuning(digits):
    model = mlp()
    model[0].requires_grad_(False)
    model[2].weight.requires_grad_(False)
    _, findings = run(checks.trainable_parameters, model, digits)
    assert codes(findings) == [("parameters_not_updating", "warning")]
    assert findings[0].evidence["parameters"] == ["0.weight", "0.bias", "2.weight"]


BEFORE_CHECKS = ["gradient_check", "initial_loss", "trainable_parameters", "symmetric_init",
                 "overfit_tiny", "regularization"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_healthy_spiral_net_passes_every_check_before_training(spiral, seed):
    gk.manual_seed(seed)
    model = models.mlp(2, hidden=(100,), num_classes=3)  # the notes' net: SGD lr 1, L2 1e-3
    opt = optim.SGD(nn.utils.param_groups_weight_decay(model, 1e-3), lr=1.0)
    report = doctor.examine(model, spiral, optimizer=opt, batch_size=240, seed=seed,
                            checks=BEFORE_CHECKS, progress=False)
    assert report.findings == []
    assert {n: r.status for n, r in report.checks.items()} == dict.fromkeys(BEFORE_CHECKS,
                                                                             "pass")

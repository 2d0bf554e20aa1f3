"""The doctor's data checks: each finding code on a tiny broken setup, and the same setup
repaired giving no finding (digits, the spiral; a few hundred samples)."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import doctor, nn
from gradkit.data import datasets
from gradkit.doctor import data as checks
from gradkit.doctor.setup import Setup
from gradkit.nn import functional as F

DATA_CHECKS = ["input_values", "input_scale", "labels", "class_balance", "output_kind",
               "train_val_overlap", "validation_set"]


@pytest.fixture(scope="module")
def digits():
    d = datasets.digits(flatten=True)
    return d.x[:400].copy(), d.y[:400].copy()


def mlp(inputs=64, outputs=10, last=()):
    gk.manual_seed(0)
    return nn.Sequential(nn.Linear(inputs, 32), nn.ReLU(), nn.Linear(32, outputs), *last)


def run(fn, model, train, **kwargs):
    result, findings = fn(Setup(model, train, **kwargs))
    return result, findings


def codes(findings):
    return [(f.code, f.severity) for f in findings]


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_nan_inputs_are_bad_values_and_ranked_first(digits):
    x, y = digits
    x = x.copy()
    x[[3, 7], 5] = np.nan
    x[11, 0] = np.inf
    report = doctor.examine(mlp(), (x, y), val=(x[:50], y[:50]), checks=DATA_CHECKS,
                            progress=False)
    top = report.findings[0]
    assert (top.code, top.severity) == ("bad_input_values", "error")
    assert top.evidence["nan_values"] == 2 and top.evidence["inf_values"] == 1
    assert top.evidence["first_bad_samples"] == [3, 7, 11]
    assert report.checks["input_values"].status == "fail"
    assert report.checks["input_scale"].status == "skip"
    clean = doctor.examine(mlp(), digits, checks=["input_values"], progress=False)
    assert clean.checks["input_values"].status == "pass" and clean.findings == []


class ToFloat(nn.Module):
    def forward(self, x):
        return x.float()


def test_integer_inputs_are_bad_values(digits):
    x, y = digits
    raw = np.round(x * 255).astype(np.uint8)
    model = nn.Sequential(ToFloat(), mlp())  # a model that takes them: the doctor still says
    result, findings = run(checks.input_values, model, (raw, y))
    assert codes(findings) == [("bad_input_values", "error")]
    assert findings[0].evidence["dtype"] == "uint8"
    assert findings[0].overrides == {"preprocessing.name": "standardize"}


def test_raw_pixels_are_not_normalized(digits):
    x, y = digits
    pixels = np.round(x * 255).astype(np.float32)
    result, findings = run(checks.input_scale, mlp(), (pixels, y))
    assert codes(findings) == [("input_not_normalized", "warning")]
    assert "0-255" in findings[0].title and result.value > 100
    assert findings[0].overrides == {"preprocessing.name": "standardize"}
    result, findings = run(checks.input_scale, mlp(), digits)
    assert result.status == "pass" and findings == [] and result.value < 1


def test_mildly_large_inputs_are_an_info_and_tiny_ones_a_warning(digits):
    x, y = digits
    _, findings = run(checks.input_scale, mlp(), (x * 4, y))  # |mean| and std ≈ 3
    assert codes(findings) == [("input_not_normalized", "info")]
    _, findings = run(checks.input_scale, mlp(), (x / 255, y))
    assert codes(findings) == [("input_not_normalized", "warning")]
    assert "nearly zero" in findings[0].title


def test_features_on_different_scales(digits):
    sp = datasets.spiral()
    x = np.concatenate([sp.x * 0.005] * 4 + [sp.x[:, :1]], axis=1)  # one feature 200x wider
    model = mlp(inputs=9, outputs=3)
    result, findings = run(checks.input_scale, model, (x, sp.y))
    assert codes(findings) == [("input_not_normalized", "warning")]
    assert findings[0].evidence["std_spread"] > 100
    _, findings = run(checks.input_scale, mlp(inputs=2, outputs=3), (sp.x, sp.y))
    assert findings == []


def test_labels_out_of_range(digits):
    x, y = digits
    result, findings = run(checks.labels, mlp(), (x, y + 1), val=(x[:20], y[:20] + 1))  # 1..10
    assert codes(findings) == [("label_mismatch", "error")]  # one finding for both splits
    assert findings[0].evidence["also_in_validation"] is True
    assert findings[0].evidence["max_label"] == 10 and findings[0].evidence["classes"] == 10
    assert "subtract 1" in findings[0].fix
    _, findings = run(checks.labels, mlp(outputs=5), digits)
    assert codes(findings) == [("label_mismatch", "error")]
    result, findings = run(checks.labels, mlp(), digits)
    assert findings == [] and result.status == "pass" and result.value == 10


def test_fewer_classes_than_outputs_is_a_warning(digits):
    x, y = digits
    keep = y < 5
    _, findings = run(checks.labels, mlp(), (x[keep], y[keep]))
    assert codes(findings) == [("label_mismatch", "warning")]
    assert findings[0].evidence["classes_present"] == 5


def test_float_labels_for_cross_entropy(digits):
    x, y = digits
    _, findings = run(checks.labels, mlp(), (x, y.astype(np.float32)))
    assert codes(findings) == [("label_mismatch", "error")]
    assert "astype('int64')" in findings[0].fix


def test_regression_target_shape(digits):
    x, y = digits
    target = y.astype(np.float32)  # (N,) against outputs (N, 1)
    _, findings = run(checks.labels, mlp(outputs=1), (x, target), loss_fn=F.mse_loss)
    assert codes(findings) == [("label_mismatch", "error")]
    assert findings[0].evidence["output_shape"] == [1] and findings[0].evidence["y_shape"] == []
    _, findings = run(checks.labels, mlp(outputs=1), (x, target[:, None]), loss_fn=F.mse_loss)
    assert findings == []


def test_class_imbalance(digits):
    x, y = digits
    keep = np.concatenate([np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:3]])
    result, findings = run(checks.class_balance, mlp(outputs=2), (x[keep], y[keep]))
    assert codes(findings) == [("class_imbalance", "warning")]
    assert result.value == pytest.approx(np.sum(y == 0) / 3)
    assert findings[0].evidence["counts"] == [int(np.sum(y == 0)), 3]
    keep = np.concatenate([np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:8]])
    _, findings = run(checks.class_balance, mlp(outputs=2), (x[keep], y[keep]))
    assert codes(findings) == [("class_imbalance", "info")]
    result, findings = run(checks.class_balance, mlp(), digits)
    assert findings == [] and result.value < 1.5


def test_softmax_last_layer_is_probabilities_as_logits(digits):
    report = doctor.examine(mlp(last=(nn.Softmax(dim=1),)), digits, checks=["output_kind"],
                            progress=False)
    [finding] = report.findings
    assert (finding.code, finding.severity, finding.layer) == (
        "probabilities_as_logits", "error", "3")
    assert abs(finding.evidence["row_sum_max"] - 1) < 1e-5
    assert "Softmax" in finding.fix
    result, findings = run(checks.output_kind, mlp(), digits)
    assert result.status == "pass" and findings == []


def test_log_softmax_outputs_with_cross_entropy_are_fine(digits):
    _, findings = run(checks.output_kind, mlp(last=(nn.LogSoftmax(dim=1),)), digits)
    assert findings == []


def test_validation_copies_of_training_samples_are_leakage(digits):
    x, y = digits
    val = (np.concatenate([x[:30], x[350:]]), np.concatenate([y[:30], y[350:]]))
    report = doctor.examine(mlp(), (x[:350], y[:350]), val=val, checks=["train_val_overlap"],
                            progress=False)
    [finding] = report.findings
    assert (finding.code, finding.severity) == ("data_leakage", "warning")
    assert finding.evidence["copies"] == 30 and finding.evidence["same_label"] == 30
    assert report.checks["train_val_overlap"].value == pytest.approx(30 / 80)
    result, findings = run(checks.train_val_overlap, mlp(), (x[:350], y[:350]),
                           val=(x[350:], y[350:]))
    assert result.status == "pass" and findings == []


def test_no_validation_set_is_an_info(digits):
    report = doctor.examine(mlp(), digits, checks=["validation_set"], progress=False)
    assert codes(report.findings) == [("no_validation_set", "info")] and report.ok
    x, y = digits
    _, findings = run(checks.validation_set, mlp(), digits, val=(x[:20], y[:20]))
    assert findings == []


def test_healthy_digits_have_no_data_finding(digits):
    x, y = digits
    report = doctor.examine(mlp(), (x[:300], y[:300]), val=(x[300:], y[300:]),
                            checks=DATA_CHECKS, progress=False)
    assert report.findings == []
    assert {name: r.status for name, r in report.checks.items()} == dict.fromkeys(
        DATA_CHECKS, "pass")

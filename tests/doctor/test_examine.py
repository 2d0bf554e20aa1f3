"""The doctor end to end: healthy setups raise no false alarms, the user's model and random
state are untouched, the report's forms (text, JSON, files) hold what was measured, and a
broken setup is named by its root cause first."""

import json

import numpy as np
import pytest

import gradkit as gk
from gradkit import doctor, models, nn, optim
from gradkit.data import datasets


def split(x, y, n=None, seed=0, train=0.8):
    idx = np.random.default_rng(seed).permutation(len(x))[:n or len(x)]
    k = int(train * len(idx))
    return (x[idx[:k]], y[idx[:k]]), (x[idx[k:]], y[idx[k:]])


def spiral_net(seed):
    data = datasets.spiral(seed=seed)
    model = nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 3))
    return model, split(data.x, data.y, seed=seed), lambda p: optim.SGD(p, lr=1.0, momentum=0.9)


def digits_mlp(seed):
    data = datasets.digits(flatten=True)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    return model, split(data.x, data.y, 800, seed), None


def digits_cnn(seed):
    data = datasets.digits()
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(128, 10))
    return model, split(data.x, data.y, 800, seed), None


def lenet_mnist(seed):
    data = datasets.mnist5k(split="train")
    x = ((data.x - 0.13) / 0.31).astype(np.float32)
    return models.lenet5(), split(x, data.y, seed=seed, train=0.9), None


HEALTHY = [(spiral_net, s) for s in (0, 1, 2)] + [(digits_mlp, s) for s in (0, 1, 2)] + [
    (digits_cnn, s) for s in (0, 1, 2)] + [(lenet_mnist, 0)]


@pytest.mark.parametrize("build, seed", HEALTHY,
                         ids=[f"{b.__name__}-seed{s}" for b, s in HEALTHY])
def test_healthy_setups_give_no_error_and_at_most_one_warning(build, seed):
    gk.manual_seed(seed)
    model, (train, val), optimizer = build(seed)
    report = doctor.examine(model, train, val=val, optimizer=optimizer, seed=seed,
                            progress=False)
    serious = [(f.severity, f.code) for f in report.findings
               if f.severity in ("error", "warning")]
    assert not [s for s in serious if s[0] == "error"], serious
    assert len(serious) <= 1, serious
    assert not [n for n, r in report.checks.items() if "the check itself failed" in r.note]


def test_examine_leaves_the_model_its_mode_and_the_random_state_as_they_were():
    gk.manual_seed(3)
    model, (train, val), _ = digits_mlp(0)
    model.eval()
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rng, np_rng = gk.get_rng_state(), np.random.get_state()
    doctor.examine(model, train, val=val, optimizer=opt, steps=60, progress=False)
    after = model.state_dict()
    assert sorted(after) == sorted(before)
    for key, value in before.items():
        np.testing.assert_array_equal(after[key].numpy(), value, err_msg=key)
    assert not model.training and all(p.grad is None for p in model.parameters())
    assert opt.state == {} and gk.get_rng_state() == rng
    assert all(np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
               for a, b in zip(np.random.get_state(), np_rng))


def test_a_learning_rate_100x_too_high_is_the_first_finding_and_its_fix_is_verified():
    gk.manual_seed(0)
    model, (train, val), _ = digits_mlp(0)
    report = doctor.examine(model, train, val=val,
                            optimizer=lambda p: optim.SGD(p, lr=30.0), steps=150,
                            progress=False)
    assert not report.ok
    assert report.findings[0].code == "lr_too_high", report.codes()
    lr = report.findings[0].overrides["optimizer.lr"]
    assert lr < 3.0
    fixes = {f["code"]: f for f in report.try_fixes(steps=150)}
    assert fixes["lr_too_high"]["cured"], fixes["lr_too_high"]


def test_the_report_in_text_json_and_files(tmp_path):
    gk.manual_seed(0)
    model, (train, val), _ = digits_mlp(0)
    model[0].weight.data = np.zeros((128, 64), np.float32) + 0.01  # every unit the same
    report = doctor.examine(model, train, val=val, steps=60, progress=False)
    assert "symmetric_weights" in report.codes()
    text = str(report)
    assert "symmetric_weights" in text and "verdict: problems found" in text
    data = report.to_dict()
    json.dumps(data, allow_nan=False)
    assert data["ok"] is False and data["checks"]["symmetric_init"]["status"] == "fail"
    page = report.save(tmp_path)
    assert page.name == "doctor.html" and "symmetric_weights" in page.read_text()
    assert json.loads((tmp_path / "doctor.json").read_text())["findings"]


def test_checks_can_be_chosen_and_unknown_names_are_refused():
    model, (train, val), _ = spiral_net(0)
    report = doctor.examine(model, train, val=val, checks=["initial_loss", "labels"],
                            progress=False)
    assert list(report.checks) == ["labels", "initial_loss"]
    with pytest.raises(ValueError, match="unknown check.*no_such_check"):
        doctor.examine(model, train, checks=["no_such_check"], progress=False)


def test_every_finding_code_is_documented_with_its_rule():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "doctor.md").read_text()
    for code, entry in doctor.CODES.items():
        assert f"`{code}`" in text, f"docs/doctor.md does not list {code}"
        rule = entry.rule.replace("|", "\\|")  # as a Markdown table cell writes it
        assert rule in text, f"docs/doctor.md has an old rule for {code}"

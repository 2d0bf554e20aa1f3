"""Ensembles: identical members, seeds on the digits, save/load, refused members."""

import json

import numpy as np
import pytest
from sklearn.datasets import load_digits

from gradkit.config import ConfigError, make_config
from gradkit.data.datasets import NpzDataset
from gradkit.tune.ensemble import Ensemble


@pytest.fixture(scope="module")
def digits_files(tmp_path_factory):
    """The 8×8 digits as two files: 1,400 to train members on, 397 none of them saw."""
    folder = tmp_path_factory.mktemp("digits")
    bunch = load_digits()
    x, y = (bunch.images / 16.0).astype(np.float32).reshape(-1, 64), bunch.target
    order = np.random.default_rng(0).permutation(len(x))
    for name, idx in (("train", order[:1400]), ("unseen", order[1400:])):
        np.savez(folder / f"{name}.npz", x=x[idx], y=y[idx], classes=np.arange(10).astype(str))
    return folder


def digits_config(folder, hidden=16):
    return make_config({"model": {"name": "mlp", "kwargs": {"hidden": [hidden]}},
                        "dataset": {"name": "npz", "root": str(folder / "train.npz")},
                        "epochs": 2, "batch_size": 64, "schedule": {"name": "constant"},
                        "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}})


@pytest.fixture(scope="module")
def seeds(digits_files, tmp_path_factory):
    out = tmp_path_factory.mktemp("seeds")
    return Ensemble.from_seeds(digits_config(digits_files), seeds=[0, 1, 2, 3, 4], out=out,
                               log=lambda *a: None)


def test_identical_members_equal_one_model(seeds, digits_files):
    one = seeds.members[0]
    x = NpzDataset(digits_files / "unseen.npz").get_batch(np.arange(50))[0]
    for method in ("mean_prob", "mean_logits"):
        ens = Ensemble([one, one, one], method=method)
        np.testing.assert_allclose(ens.predict(x), one.predict(x), rtol=1e-5, atol=1e-7)
    votes = Ensemble([one, one], method="vote").predict(x)
    assert (votes.argmax(axis=1) == one.predict(x).argmax(axis=1)).all()


def test_five_seeds_score_at_least_their_median_member(seeds, digits_files):
    scores = seeds.evaluate(NpzDataset(digits_files / "unseen.npz"))
    members = [m["accuracy"] for m in scores["members"]]
    assert len(members) == 5 and len(set(m["run"] for m in scores["members"])) == 5
    assert scores["accuracy"] >= np.median(members)
    assert scores["accuracy"] > 0.8 and scores["loss"] < 1.0


def test_save_load_round_trips(seeds, digits_files, tmp_path):
    x = NpzDataset(digits_files / "unseen.npz").get_batch(np.arange(40))[0]
    ens = Ensemble(seeds.members[:3], weights=[1, 2, 1], method="mean_logits")
    ens.save(tmp_path / "ens")
    back = Ensemble.load(tmp_path / "ens")
    assert back.method == "mean_logits" and back.weights.tolist() == [0.25, 0.5, 0.25]
    np.testing.assert_array_equal(back.predict(x), ens.predict(x))


def test_a_member_of_another_architecture_is_refused(seeds, digits_files, tmp_path):
    other = Ensemble.from_seeds(digits_config(digits_files, hidden=8), seeds=[0],
                                out=tmp_path / "other", log=lambda *a: None)
    folder = Ensemble(seeds.members[:2]).save(tmp_path / "ens")
    other.save(tmp_path / "swap")
    (folder / "member-01.safetensors").write_bytes(
        (tmp_path / "swap" / "member-00.safetensors").read_bytes())
    with pytest.raises(ConfigError) as err:
        Ensemble.load(folder)
    assert err.value.errors == [f"ensemble: {folder / 'member-01.safetensors'} is not the "
                                "member the manifest names: it holds mlp(hidden=[8], "
                                "in_features=64, num_classes=10) for 10 classes from inputs "
                                "(64,), expected mlp(hidden=[16], in_features=64, "
                                "num_classes=10) for 10 classes from inputs (64,)"]
    assert json.loads((folder / "manifest.json").read_text())["members"][1]["kwargs"][
        "hidden"] == [16]


def test_from_study_and_from_checkpoints(tmp_path):
    from gradkit import tune

    config = make_config({"model": {"name": "mlp", "kwargs": {"hidden": [16]}},
                          "dataset": {"name": "spiral", "val_fraction": 0.3}, "epochs": 2,
                          "batch_size": 32, "schedule": {"name": "constant"},
                          "optimizer": {"name": "adam", "lr": 0.01}})
    study = tune.search(config, {"optimizer.lr": tune.loguniform(1e-3, 1e-1)}, trials=4,
                        stages=None, out=tmp_path / "s", report=False, log=lambda *a: None)
    top = Ensemble.from_study(study, top=3)
    best_first = [r["run"] for r in study.ranked()[:3]]
    assert [str(m.checkpoint).split("/checkpoints/")[0] for m in top.members] == best_first
    scores = top.evaluate()  # the spiral's held-out test split
    assert len(scores["members"]) == 3 and 0 <= scores["accuracy"] <= 1
    snapshot = Ensemble.from_checkpoints(best_first[0])
    names = sorted(m.checkpoint.name for m in snapshot.members)  # the best epoch and last
    assert len(names) == 2 and names[0].startswith("epoch") and names[1] == "last.safetensors"


def test_an_ema_run_gives_its_weights_and_their_average_as_two_members(digits_files, tmp_path,
                                                                       seeds):
    from gradkit.experiment import train
    from gradkit.train import checkpoint_info

    config = digits_config(digits_files).model_copy(update={"out": str(tmp_path / "ema")})
    config.regularization.ema_decay = 0.9
    run = train(config, report=False, log=lambda *a: None).run_dir
    ens = Ensemble.from_ema(run)
    raw, averaged = ens.members
    assert (raw.ema, averaged.ema) == (False, True)
    shadow = checkpoint_info(averaged.checkpoint)["extra"]["callbacks"]["EMA"]["shadow"]
    params = dict(averaged.model.named_parameters())
    for name, array in shadow.items():
        np.testing.assert_array_equal(params[name].numpy(), np.asarray(array))
    first = next(iter(shadow))
    assert not np.array_equal(dict(raw.model.named_parameters())[first].numpy(),
                              params[first].numpy())
    unseen = NpzDataset(digits_files / "unseen.npz")
    scores = ens.evaluate(unseen)
    assert all(m["accuracy"] > 0.5 for m in scores["members"])
    again = Ensemble.load(ens.save(tmp_path / "saved"))
    assert [m.ema for m in again.members] == [False, True]
    x = unseen.get_batch(np.arange(30))[0]
    np.testing.assert_allclose(again.predict(x), ens.predict(x), rtol=1e-6)
    with pytest.raises(ConfigError, match="holds no EMA average; train the run with "
                                          "regularization.ema_decay"):
        Ensemble.from_ema(seeds.members[0].checkpoint.parent.parent)


def test_distilling_five_seeds_into_one_small_model(seeds, digits_files, tmp_path):
    from gradkit.tune import distill

    student = digits_config(digits_files, hidden=12).model_copy(
        update={"out": str(tmp_path / "student"), "epochs": 3})
    exp = distill(seeds, student, temperature=4.0, report=False, log=lambda *a: None)
    assert exp.trainer.loss_fn.keywords == {"temperature": 4.0}
    unseen = NpzDataset(digits_files / "unseen.npz")
    from gradkit.train.trained_run import evaluate, final_checkpoint, load_run
    score = evaluate(load_run(final_checkpoint(exp.run_dir)), unseen)["accuracy"]
    teacher = seeds.evaluate(unseen)["accuracy"]
    assert score > 0.8 and score > teacher - 0.1
    assert exp.results["final"]["test"]["accuracy"] > 0.8
    with pytest.raises(ValueError, match="temperature must be > 0"):
        distill(seeds, student, temperature=0)


def test_soft_targets_and_the_distillation_loss_against_torch(seeds, digits_files):
    import torch

    from gradkit.tune.distill import distillation_loss, soft_targets
    from oracle import check

    unseen = NpzDataset(digits_files / "unseen.npz")
    x = unseen.get_batch(np.arange(20))[0]
    p = seeds.predict(x)
    np.testing.assert_allclose(soft_targets(seeds, unseen, 1.0)[:20], p / p.sum(1, keepdims=True),
                               rtol=1e-5, atol=1e-7)
    hot = soft_targets(seeds, unseen, 8.0)
    assert (hot.max(axis=1) < soft_targets(seeds, unseen, 1.0).max(axis=1) + 1e-7).all()
    z = np.random.default_rng(0).standard_normal((6, 10))
    q = np.random.default_rng(1).dirichlet(np.ones(10), 6)
    check([], lambda a, b: torch.nn.functional.cross_entropy(a / 3.0, b) * 9.0,
          lambda a, b: distillation_loss(a, b, 3.0), arrays=[z, q])

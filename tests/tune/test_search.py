"""tune.search on tiny real runs: reproducible, coarse-to-fine, pruning, failures, workers."""

import json

import pytest

from gradkit import tune
from gradkit.tune.study import SEARCH_FILE

LR = {"optimizer.lr": tune.loguniform(1e-4, 1.0)}


def quiet(*args):
    pass


def test_seeded_random_search_repeats_its_trials(config, tmp_path):
    runs = [tune.search(config, LR, trials=3, stages=None, out=tmp_path / name, seed=3,
                        report=False, log=quiet).table() for name in ("a", "b")]
    first, second = ([(r["params"], r["value"]) for r in table] for table in runs)
    assert first == second
    assert len({r[0]["optimizer.lr"] for r in first}) == 3
    other = tune.search(config, LR, trials=3, stages=None, out=tmp_path / "c", seed=4,
                        report=False, log=quiet).table()
    assert other[0]["params"] != runs[0][0]["params"]


def test_coarse_to_fine_narrows_around_the_top_trials(config, tmp_path):
    study = tune.search(config, LR, trials=8, stages="coarse-to-fine", pruner=None,
                        out=tmp_path / "s", report=False, log=quiet)
    table = study.table()
    assert [r["stage"] for r in table] == [1] * 6 + [2] * 2
    assert [r["number"] for r in table] == list(range(8))
    assert all(len(r["values"]) == (1 if r["stage"] == 1 else 2) for r in table)
    info = study.stage_info()
    lo, hi = info[1]["space"]["optimizer.lr"]["loguniform"]
    top = sorted((r for r in table if r["stage"] == 1), key=lambda r: -r["value"])[:3]
    lrs = [r["params"]["optimizer.lr"] for r in top]
    assert lo <= min(lrs) and max(lrs) <= hi and (lo, hi) != (1e-4, 1.0)
    assert info[1]["narrowing"][0].startswith("optimizer.lr: [0.0001, 1] -> [")
    assert all(lo <= r["params"]["optimizer.lr"] <= hi for r in table if r["stage"] == 2)
    best = study.best
    assert best["value"] == max(r["value"] for r in table)
    assert best["run"] == str(tmp_path / "s" / "trials" / f"trial-{best['number']:04d}")
    assert tune.load(tmp_path / "s").best == best


def test_each_trial_is_a_run_folder_with_val_accuracy_in_its_checkpoint(config, tmp_path):
    study = tune.search(config, LR, trials=1, stages=None, out=tmp_path / "s", log=quiet)
    run = tmp_path / "s" / "trials" / "trial-0000"
    assert study.best["run"] == str(run)
    names = sorted(p.name for p in (run / "checkpoints").iterdir())
    value = study.best["value"]
    assert any(n.endswith(f"-val_accuracy{value:.4f}.safetensors") for n in names), names
    files = {p.name for p in run.iterdir()}
    assert {"config.yaml", "metrics.jsonl", "results.json", "report.html"} <= files
    page = (tmp_path / "s" / "tune.html").read_text()
    assert "stage 1: 1 trials of 2 epoch(s)" in page and page.count("<img") == 2


def test_pruning_stops_bad_trials(make_tiny, tmp_path):
    space = {"optimizer.lr": tune.loguniform(1e-6, 1.0)}
    study = tune.search(make_tiny(epochs=4), space, trials=8, stages=None,
                        pruner={"median": {"n_startup_trials": 2}}, out=tmp_path / "s",
                        report=False, log=quiet, seed=1)
    states = [r["state"] for r in study.table()]
    assert "PRUNED" in states and states.count("COMPLETE") >= 2
    for row in study.table():
        if row["state"] == "PRUNED":
            assert len(row["values"]) < 4


def test_tpe_and_hyperband_run_on_optuna(make_tiny, tmp_path):
    study = tune.search(make_tiny(epochs=3), LR, trials=5, stages=None, sampler="tpe",
                        pruner="hyperband", out=tmp_path / "s", report=False, log=quiet)
    assert len(study.table()) == 5
    assert {r["state"] for r in study.table()} <= {"COMPLETE", "PRUNED"}


def test_a_failing_trial_is_recorded_and_the_search_goes_on(config, tmp_path):
    space = {"model.name": tune.choice(["mlp", "lenet5"])}  # LeNet-5 on 2-d points fails
    study = tune.search(config, space, trials=4, stages=None, out=tmp_path / "s",
                        report=False, log=quiet, seed=3)  # draws lenet5, mlp, lenet5, mlp
    table = study.table()
    assert len(table) == 4
    failed = [r for r in table if r["state"] == "FAIL"]
    assert failed and all(r["params"]["model.name"] == "lenet5" for r in failed)
    assert all(r["error"] for r in failed)
    assert study.best["params"]["model.name"] == "mlp"


def test_another_search_in_the_same_folder_is_refused(config, tmp_path):
    tune.search(config, LR, trials=1, stages=None, out=tmp_path / "s", report=False,
                log=quiet)
    with pytest.raises(ValueError, match="holds another search \\(its stages differ\\)"):
        tune.search(config, LR, trials=2, stages=None, out=tmp_path / "s", report=False,
                    log=quiet)
    assert json.loads((tmp_path / "s" / SEARCH_FILE).read_text())["stages"][0]["trials"] == 1


def test_two_workers_share_one_study(config, tmp_path):
    study = tune.search(config, LR, trials=4, stages=None, workers=2, out=tmp_path / "s",
                        report=False, log=quiet)
    table = study.table()
    assert sorted(r["number"] for r in table) == [0, 1, 2, 3]
    assert [r["state"] for r in table] == ["COMPLETE"] * 4
    assert len({r["run"] for r in table}) == 4
    alone = tune.search(config, LR, trials=4, stages=None, out=tmp_path / "one",
                        report=False, log=quiet).table()
    assert sorted(r["params"]["optimizer.lr"] for r in table) == \
        sorted(r["params"]["optimizer.lr"] for r in alone)  # the same draws, shared out


def test_a_best_at_the_edge_widens_it_and_warns_on_a_real_run(make_tiny, tmp_path):
    space = {"optimizer.lr": tune.loguniform(1e-5, 1e-3)}  # too low for Adam here
    config = make_tiny(epochs=1)
    single = tune.search(config, space, trials=6, stages=None, pruner=None, seed=1,
                         out=tmp_path / "a", report=False, log=quiet)
    assert single.best["params"]["optimizer.lr"] == pytest.approx(9.32e-4, rel=1e-3)
    assert single.warnings == [
        "optimizer.lr: the best trial lies in the top 10% of its range loguniform(1e-05, "
        "0.001): the best value may lie beyond it; widen that edge"]
    staged = tune.search(config, space, stages=[{"trials": 6, "epochs": 1},
                                                {"trials": 2, "epochs": 1}],
                         pruner=None, seed=1, out=tmp_path / "b", report=False, log=quiet)
    info = staged.stage_info()[1]
    assert info["space"]["optimizer.lr"]["loguniform"][1] == pytest.approx(1e-2)
    assert "widened the high edge: the best, 0.000932" in info["narrowing"][0]

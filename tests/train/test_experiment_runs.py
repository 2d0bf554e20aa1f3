"""experiment.train in its run folder: runs/latest, resume and extend, complete runs, restart
of runs that died before their first checkpoint, names, foreign folders, the lock, warnings."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gradkit import experiment
from gradkit.config import ConfigError, load_config, save_config
from gradkit.train import Callback, checkpoint_info

SPIRAL = {"model.name": "mlp", "dataset.name": "spiral", "epochs": 1, "batch_size": 64,
          "schedule.name": "constant", "model.kwargs.hidden": [8], "preprocessing.name": "none"}


def _config(**over):
    return load_config(overrides={**SPIRAL, **over})


def _train(config, resume=None):
    said = []
    exp = experiment.train(config, resume=resume, report=False, log=said.append)
    return exp, said


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def test_runs_latest_links_the_newest_run(tmp_path):
    first, _ = _train(_config())
    second, _ = _train(_config())
    assert (str(first.run_dir), str(second.run_dir)) == ("runs/mlp-spiral", "runs/mlp-spiral-2")
    assert os.readlink("runs/latest") == "mlp-spiral-2"
    assert (tmp_path / "runs" / "latest" / "results.json").exists()
    assert not [p for p in (tmp_path / "runs").iterdir() if p.name.startswith(".")]


def test_a_complete_run_is_not_touched_and_can_be_extended(tmp_path):
    exp, _ = _train(_config(epochs=2))
    run = exp.run_dir
    before = {p.name: p.stat().st_mtime_ns for p in run.iterdir()}
    config = experiment.resume_config(run, {})
    assert (config.epochs, config.batch_size, config.out) == (2, 64, str(run))
    with pytest.raises(experiment.RunComplete) as done:
        _train(config, resume=run)
    assert str(done.value) == (f"{run} is complete: 2/2 epochs. To train longer: "
                               f"gradkit train --resume {run} --epochs 12")
    assert {p.name: p.stat().st_mtime_ns for p in run.iterdir()} == before
    longer, _ = _train(experiment.resume_config(run, {"epochs": 3}), resume=run)
    assert [r["epoch"] for r in longer.trainer.state.history] == [1, 2, 3]
    assert checkpoint_info(run / "checkpoints" / "last.safetensors")["config"]["epochs"] == 3


class _Crash(Callback):
    def on_batch_end(self, trainer):
        if trainer.state.step == 6:  # epoch 2, batch 2: after its checkpoint, like a SIGKILL
            raise RuntimeError("killed")


def test_extending_a_onecycle_run_starts_a_new_cycle_and_resumes_exactly(tmp_path,
                                                                          monkeypatch):
    onecycle = {"schedule.name": "onecycle", "checkpoint_every": 1}
    straight, _ = _train(_config(out="a", **onecycle))
    with pytest.raises(experiment.RunComplete, match=r"--epochs 11 \(the added epochs get a "
                                                     r"onecycle schedule of their own\)"):
        _train(experiment.resume_config("a", {}), resume="a")
    extended, said = _train(experiment.resume_config("a", {"epochs": 3}), resume="a")
    assert "extending a from 1 to 3 epochs: a new onecycle schedule over the 2 added" in said
    steps = [json.loads(line) for line in open("a/metrics.jsonl")]
    lrs = {r["step"]: r["lr"] for r in steps if r["kind"] == "step"}
    assert len(lrs) == 12 and lrs[5] == pytest.approx(lrs[1]) == pytest.approx(0.05 / 25)

    _train(_config(out="b", **onecycle))
    build = experiment.build_callbacks
    monkeypatch.setattr(experiment, "build_callbacks", lambda *a: build(*a) + [_Crash()])
    with pytest.raises(RuntimeError, match="killed"):
        _train(experiment.resume_config("b", {"epochs": 3}), resume="b")
    monkeypatch.setattr(experiment, "build_callbacks", build)
    with pytest.raises(ConfigError, match="stopped at epoch 2 of the 3 its onecycle"):
        _train(experiment.resume_config("b", {"epochs": 4}), resume="b")
    resumed, _ = _train(experiment.resume_config("b", {}), resume="b")
    for (name, p), q in zip(extended.model.named_parameters(), resumed.model.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
    assert resumed.trainer.optimizer.param_groups[0]["lr"] == \
        extended.trainer.optimizer.param_groups[0]["lr"]


def test_resume_takes_the_config_from_the_checkpoint(tmp_path):
    exp, _ = _train(_config(epochs=2, batch_size=32))
    run, yaml_path = exp.run_dir, exp.run_dir / "config.yaml"
    with pytest.raises(ConfigError, match="optimizer.lr: --resume continues the run exactly"):
        experiment.resume_config(run, {"optimizer.lr": 0.1})
    text = yaml_path.read_text()
    yaml_path.write_text(text.replace("batch_size: 32", "batch_size: 64"))
    with pytest.raises(ConfigError, match="config.yaml disagrees .* in batch_size; "):
        experiment.resume_config(run, {})
    yaml_path.write_text("")  # torn by a full disk
    config = experiment.resume_config(run, {"epochs": 3})
    assert (config.batch_size, config.epochs, config.model.name) == (32, 3, "mlp")
    _train(config, resume=run)
    assert yaml_path.read_text() == text.replace("epochs: 2", "epochs: 3")


def test_save_config_is_atomic_and_skips_unchanged_files(tmp_path, monkeypatch):
    config = _config()
    path = save_config(config, tmp_path / "config.yaml")
    inode = path.stat().st_ino
    save_config(config, path)
    assert path.stat().st_ino == inode  # same text: not rewritten

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space"):
        save_config(_config(epochs=5), path)
    assert load_config(path).epochs == 1 and [p.name for p in tmp_path.iterdir()] == \
        ["config.yaml"]


@pytest.mark.parametrize("name", ["../x", "/tmp/somewhere", "a/b", "..", "~x"])
def test_run_names_stay_under_runs(name):
    with pytest.raises(ConfigError, match=r"name: a run name is one folder name under runs/"):
        _config(name=name)


def test_a_folder_with_foreign_files_is_refused(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "results.json").write_text("precious")
    (tmp_path / "mine" / "notes.txt").write_text("precious")
    with pytest.raises(ConfigError, match=r"out: mine holds files that are not a gradkit "
                                          r"run's \(notes.txt, results.json\)"):
        _train(_config(out="mine"))
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt",
                                                                    "results.json"]


def _dead_run(tmp_path, orphan=True):
    """A run killed in epoch 1 (during its first checkpoint write when ``orphan``)."""
    run = tmp_path / "dead"
    config = _config(out=str(run), epochs=2)
    save_config(experiment.prepare(config).config, run / "config.yaml")
    (run / "metrics.jsonl").write_text('{"kind": "step", "epoch": 1, "step": 1, "loss": 1.0}\n')
    if orphan:
        (run / "checkpoints").mkdir()
        (run / "checkpoints" / ".last.safetensors.tmp999999999").write_bytes(b"torn")
    return run, config


@pytest.mark.parametrize("how", ["resume", "out"])
def test_a_run_that_died_before_its_first_checkpoint_restarts(tmp_path, how):
    run, config = _dead_run(tmp_path)
    if how == "resume":
        exp, said = _train(experiment.resume_config(run, {}), resume=run)
        assert any("has no checkpoint" in s and "restarting it from scratch" in s for s in said)
    else:
        exp, said = _train(config)
        assert any("stopped before its first checkpoint; restarting it from scratch" in s
                   for s in said)
    assert [r["epoch"] for r in exp.trainer.state.history] == [1, 2]
    assert sorted(p.name for p in (run / "checkpoints").iterdir() if p.name[0] == ".") == []


def test_resume_of_a_run_with_no_checkpoint_and_a_torn_config_is_refused(tmp_path):
    run, _ = _dead_run(tmp_path, orphan=False)
    (run / "config.yaml").write_text("seed: 0\nepochs: 2\n")  # torn: most keys missing
    with pytest.raises(ConfigError, match="no checkpoint and its config.yaml is empty or torn"):
        experiment.resume_config(run, {})


def test_a_run_folder_in_use_is_locked(tmp_path):
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / "busy").mkdir()
        (tmp_path / "busy" / ".lock").write_text(f"{live.pid}\n")
        with pytest.raises(experiment.RunLocked, match=f"busy is in use by another training "
                                                       f"process \\(pid {live.pid}\\)") as info:
            _train(_config(out="busy"))
        assert info.value.pid == live.pid and isinstance(info.value, ConfigError)
    finally:
        live.kill()
        live.wait()
    exp, _ = _train(_config(out="busy"))  # the pid is dead now: a stale lock, taken over
    assert not (exp.run_dir / ".lock").exists()


def test_the_lock_is_released_on_errors(tmp_path):
    config = _config(out="err", **{"optimizer.lr": 1e30})
    with pytest.raises(FloatingPointError, match="(?s)NaNGuard: stopped at epoch 1.*"
                                                 "diagnose it: gradkit doctor err"):
        _train(config)
    assert not (tmp_path / "err" / ".lock").exists()
    exp, said = _train(_config(out="err"))  # the NaN guard fired before any checkpoint
    assert any("restarting it from scratch" in s for s in said) and exp.results["final"]


def test_a_diverged_run_says_so_in_the_log_and_results(tmp_path):
    exp, said = _train(_config(epochs=2, **{"optimizer.lr": 100.0, "model.kwargs.hidden": [64],
                                            "preprocessing.name": "standardize"}))
    results = json.loads((exp.run_dir / "results.json").read_text())
    assert results["warnings"] and results["warnings"] == exp.results["warnings"]
    assert any(w.startswith("diverged: the final train loss") for w in results["warnings"])
    assert results["warnings"][-1] == f"diagnose it: gradkit doctor {exp.run_dir}"
    assert [s for s in said if s.startswith("warning: ")] == \
        [f"warning: {w}" for w in results["warnings"]]
    healthy, _ = _train(_config(epochs=2, **{"optimizer.lr": 0.5}))
    assert healthy.results["warnings"] == []


def test_config_callbacks_and_checkpoint_every_reach_the_trainer(tmp_path):
    config = _config(epochs=5, checkpoint_every=2, callbacks=[
        {"name": "EarlyStopping", "params": {"monitor": "train_loss", "mode": "max",
                                             "patience": 1}}])
    exp, _ = _train(config)
    assert len(exp.trainer.state.history) == 2  # stopped early: the loss fell
    ckpt = next(c for c in exp.trainer.callbacks if type(c).__name__ == "Checkpoint")
    assert ckpt.every_n_steps == 2


def test_divergence_rules_on_histories():
    from gradkit.train.divergence import divergence_warnings
    healthy = [{"train_loss": 1.65, "val_accuracy": 0.83}, {"train_loss": 0.4,
                                                            "val_accuracy": 0.95}]
    assert divergence_warnings(healthy, 10, 0.05) == []
    assert divergence_warnings(healthy[:1], 10, 0.05) == []
    nan = divergence_warnings([{"train_loss": float("nan")}], 10, 1.0)
    assert nan == ["diverged: the final train loss is nan; try a lower learning rate "
                   "(now 1; e.g. 0.1)"]
    grew = divergence_warnings([{"train_loss": 0.1}, {"train_loss": 2.0}], None, None)
    assert grew == ["diverged: the train loss grew from 0.1 (epoch 1) to 2; try a lower "
                    "learning rate"]
    chance = divergence_warnings([{"train_loss": 2.3, "train_accuracy": 0.1}] * 2, 10, 0.1)
    assert chance == ["no learning: the final train accuracy 10.0% is chance level for 10 "
                      "classes (10.0%); try a lower learning rate (now 0.1; e.g. 0.01)"]


def test_resume_through_runs_latest_keeps_the_link(tmp_path):
    _train(_config())
    exp, _ = _train(experiment.resume_config("runs/latest", {"epochs": 2}), resume="runs/latest")
    assert [r["epoch"] for r in exp.trainer.state.history] == [1, 2]
    assert os.readlink("runs/latest") == "mlp-spiral"


def test_no_symlinks_no_latest_and_no_harm(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "symlink", refuse)
    exp, _ = _train(_config())
    assert exp.results["final"] and not os.path.lexists("runs/latest")
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["mlp-spiral"]


def test_a_run_stopped_early_is_complete(tmp_path):
    config = _config(epochs=6, callbacks=[{"name": "EarlyStopping", "params": {
        "monitor": "train_loss", "mode": "max", "patience": 1}}])
    exp, _ = _train(config)
    done = len(exp.trainer.state.history)
    assert done < 6
    with pytest.raises(experiment.RunComplete, match=f"is complete: {done}/6 epochs"):
        _train(experiment.resume_config(exp.run_dir, {}), resume=exp.run_dir)


def test_a_config_yaml_from_before_a_new_key_is_whole_and_a_torn_one_is_not(tmp_path):
    import yaml

    from gradkit.config import config_yaml, make_config
    from gradkit.train.runs import _read_config_yaml

    data = yaml.safe_load(config_yaml(make_config({})))
    for newer in ("monitor", "callbacks", "checkpoint_every"):
        data.pop(newer)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    assert _read_config_yaml(path) == data
    path.write_text(yaml.safe_dump(data)[:40])  # torn mid-write
    assert _read_config_yaml(path) is None

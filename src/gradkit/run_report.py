"""A run folder's report: gather what ``gradkit train`` wrote and hand it to gradkit.report.

    from gradkit.run_report import write_run_report
    write_run_report("runs/latest")          # -> runs/latest/report.html

Reads ``metrics.jsonl`` (a torn or unreadable line, e.g. from a kill mid-write, is skipped and
the report says which line), ``config.yaml``, ``results.json`` (the test metrics of the final
and best-validation checkpoints and the run's ``warnings``), then loads the final weights
(``checkpoints/last.safetensors``) through gradkit.experiment and scores them on the test
split. A run that ended without results.json (killed, stopped by the NaN guard) and
non-finite losses in its metrics are named in the report's warnings. This module is the only
one that joins experiment and report, so neither imports the other.
"""

import json
from pathlib import Path

import numpy as np

from gradkit.experiment import arrays, final_checkpoint, load_run, load_splits
from gradkit.report import Evaluation, RunData, render_report
from gradkit.train.checkpoint import CheckpointError


def read_metrics(run_dir):
    """(step records, epoch records, notes) from ``run_dir/metrics.jsonl``; ``notes`` names
    each line that was skipped because it is not a JSON object (a torn write)."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: {run_dir} is not a run folder "
                                "(gradkit train writes metrics.jsonl there)")
    steps, epochs, notes = [], [], []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict) or not isinstance(record.get("step"), int):
            where = "the last line" if number == len(lines) else f"line {number}"
            notes.append(f"metrics.jsonl: skipped {where} of {len(lines)}, which is not a "
                         f"complete record (a write cut short?): {line[:60]!r}")
            continue
        (steps if record.get("kind") == "step" else epochs).append(record)
    return steps, epochs, notes


def _monitor(run_dir):
    """monitor.json (``gradkit train --monitor``) as a dict, or None."""
    path = Path(run_dir) / "monitor.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _results(run_dir):
    """results.json as a dict, or (None, a note) when it is missing or unreadable."""
    path = Path(run_dir) / "results.json"
    if not path.exists():
        return None, ("no results.json: training did not finish (interrupted, or stopped by "
                      "the NaN guard), so the test scores below, if any, are of the last "
                      "checkpoint written")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        return None, f"results.json is unreadable ({err}); it is ignored"
    if not isinstance(results, dict):
        return None, "results.json does not hold a JSON object; it is ignored"
    return results, None


def _non_finite(steps):
    """A warning when step losses were non-finite (written as null), else None."""
    bad = [r["step"] for r in steps if "loss" in r and r["loss"] is None]
    if not bad:
        return None
    return (f"the training loss was not finite (NaN or infinite) at {len(bad)} step(s), "
            f"first at step {bad[0]}: lower the learning rate or clip the gradients")


def _evaluate(run_dir):
    """(Evaluation, the LoadedRun) of the run's final weights on its test split."""
    checkpoint = final_checkpoint(run_dir)
    run = load_run(checkpoint)
    x, y = arrays(load_splits(run.config).test)
    evaluation = Evaluation(run.classes, x, y, run.predict(x), predict=run.predict,
                            checkpoint=str(checkpoint.relative_to(run_dir)))
    return evaluation, run


def _first_layer(run):
    """(name, weights, input shape) of the model's first 2-D or 4-D weight, or None."""
    for name, p in run.model.named_parameters():
        if name.endswith("weight") and p.ndim in (2, 4):
            return name, np.array(p.numpy()), run.input_shape
    return None


def gather(run_dir, max_misclassified=32):
    """The RunData of a run folder (see the module docstring)."""
    run_dir = Path(run_dir)
    steps, epochs, notes = read_metrics(run_dir)
    config_path = run_dir / "config.yaml"
    data = RunData(name=run_dir.resolve().name, steps=steps, epochs=epochs,
                   location=str(run_dir), max_misclassified=max_misclassified,
                   config_text=config_path.read_text(encoding="utf-8", errors="replace")
                   if config_path.exists() else "(no config.yaml)")
    data.results, problem = _results(run_dir)
    written = (data.results or {}).get("warnings") or []
    written = [written] if isinstance(written, str) else written
    data.warnings = [str(w) for w in written] + [n for n in (problem, _non_finite(steps)) if n]
    data.warnings += notes
    data.monitor = _monitor(run_dir)
    try:
        data.evaluation, run = _evaluate(run_dir)
    except (FileNotFoundError, ImportError, ValueError, CheckpointError) as err:
        data.not_evaluated = str(err)
        return data
    data.model_name = run.config.model.name
    data.parameters = sum(p.numel() for p in run.model.parameters())
    data.first_layer = _first_layer(run)
    return data


def write_run_report(run_dir, max_misclassified=32):
    """Write ``run_dir/report.html`` (at most ``max_misclassified`` mistakes drawn) and
    return its path."""
    path = Path(run_dir) / "report.html"
    path.write_text(render_report(gather(run_dir, max_misclassified)), encoding="utf-8")
    return path

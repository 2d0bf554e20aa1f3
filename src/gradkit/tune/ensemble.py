"""Ensembles of trained runs: average what several models predict, for "a few percent" more.

    ens = Ensemble.from_study(tune.load("runs/tune-lenet"), top=5)   # the top trials
    ens = Ensemble.from_seeds(config, seeds=[0, 1, 2, 3, 4], out="runs/seeds")
    ens = Ensemble.from_checkpoints("runs/x")      # snapshot ensemble of one run
    ens = Ensemble.from_ema("runs/x")              # its final weights and their EMA average
    ens.evaluate()     # {"accuracy", "loss", "members": [{"accuracy", "loss", "run"}, ...]}
    ens.save("runs/ens"); Ensemble.load("runs/ens")

A member is a LoadedRun (gradkit.train.trained_run): its model with the preprocessing it was
trained with, so members trained differently combine on the same raw inputs; a run that kept
an EMA (Polyak) average is loaded with the averaged weights (``from_ema`` takes both the
weights as trained and their average as two members). All members must predict the
same classes from the same input shape. ``method``: "mean_prob" p = Σ wᵢ softmax(zᵢ) / Σ wᵢ;
"mean_logits" p = softmax(Σ wᵢ zᵢ / Σ wᵢ); "vote": the share of the (weighted) votes each
class gets (ties go to the lower class). The ensemble's loss is −mean log p[y].

Saved, an ensemble is a folder: ``member-00.safetensors``, ... (each the member's checkpoint,
which holds its config) and ``manifest.json`` (method, weights, and each member's model,
kwargs, classes, source run and whether it is the EMA average); ``load`` refuses a member file whose architecture is not
the one the manifest names.
"""

import json
import shutil
from pathlib import Path

import numpy as np

from gradkit.config import ConfigError
from gradkit.train.trained_run import arrays, best_checkpoint, final_checkpoint, load_run

METHODS = ("mean_prob", "mean_logits", "vote")


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _member(source):
    """A LoadedRun from itself, a checkpoint file, or a run folder (its best checkpoint by
    validation accuracy, else its final one)."""
    if hasattr(source, "logits"):
        return source
    path = Path(source)
    if path.is_dir():
        path = best_checkpoint(path) or final_checkpoint(path)
    return load_run(path)


def _architecture(run):
    return {"model": run.config.model.name, "kwargs": run.config.model.kwargs,
            "classes": list(run.classes), "input_shape": list(run.input_shape)}


def _describe(arch):
    kwargs = ", ".join(f"{k}={v}" for k, v in sorted(arch["kwargs"].items()))
    return (f"{arch['model']}({kwargs}) for {len(arch['classes'])} classes from inputs "
            f"{tuple(arch['input_shape'])}")


class Ensemble:
    """Members (LoadedRuns, checkpoints or run folders) combined by ``method`` (see the
    module docstring) with ``weights`` (default equal)."""

    def __init__(self, members, weights=None, method="mean_prob"):
        self.members = [_member(m) for m in members]
        if not self.members:
            raise ValueError("Ensemble: no members")
        if method not in METHODS:
            raise ValueError(f"Ensemble: method must be one of {', '.join(METHODS)}, got "
                             f"{method!r}")
        weights = np.ones(len(self.members)) if weights is None else np.asarray(weights, float)
        if weights.shape != (len(self.members),) or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"Ensemble: weights must be {len(self.members)} non-negative "
                             f"numbers, not all 0; got {weights.tolist()}")
        first = self.members[0]
        for i, m in enumerate(self.members[1:], 1):
            if (m.classes, m.input_shape) != (first.classes, first.input_shape):
                raise ConfigError([f"ensemble: member {i} ({m.checkpoint}) predicts "
                                   f"{m.classes} from inputs {m.input_shape}; member 0 "
                                   f"predicts {first.classes} from {first.input_shape}"])
        self.weights, self.method = weights / weights.sum(), method

    def predict(self, x):
        """Class probabilities (N, C) of raw samples x (N, *input_shape)."""
        logits = [m.logits(x) for m in self.members]
        if self.method == "mean_logits":
            return _softmax(sum(w * z for w, z in zip(self.weights, logits)))
        if self.method == "vote":
            c = logits[0].shape[1]
            return sum(w * np.eye(c)[z.argmax(axis=1)] for w, z in zip(self.weights, logits))
        return sum(w * _softmax(z) for w, z in zip(self.weights, logits))

    def evaluate(self, dataset=None):
        """{"accuracy", "loss", "members": [{"accuracy", "loss", "run"}, ...]} on ``dataset``
        (default: the test split of the first member's run config)."""
        if dataset is None:
            from gradkit.experiment import load_splits
            dataset = load_splits(self.members[0].config).test
        x, y = arrays(dataset)

        def scores(p):
            picked = np.clip(p[np.arange(len(y)), y], 1e-12, None)
            return {"accuracy": float((p.argmax(axis=1) == y).mean()),
                    "loss": float(-np.log(picked).mean())}

        members = [{**scores(_softmax(m.logits(x))), "run": str(m.checkpoint)}
                   for m in self.members]
        return {**scores(self.predict(x)), "members": members}

    # ----- where members come from -----
    @classmethod
    def from_study(cls, study, top=5, **kwargs):
        """The ``top`` finished trials of a search (best first), each by its best checkpoint."""
        runs = [r["run"] for r in study.ranked()[:top]]
        return cls(runs, **kwargs)

    @classmethod
    def from_checkpoints(cls, run, **kwargs):
        """A snapshot ensemble: every checkpoint one run folder kept."""
        paths = sorted((Path(run) / "checkpoints").glob("*.safetensors"))
        if not paths:
            raise FileNotFoundError(f"ensemble: no checkpoints in {Path(run) / 'checkpoints'}")
        return cls(paths, **kwargs)

    @classmethod
    def from_ema(cls, run, **kwargs):
        """Two members from one run that kept an EMA (``regularization.ema_decay``): its
        final weights as trained and their Polyak average (the EMA callback's shadow)."""
        path = final_checkpoint(Path(run))
        if path is None:
            raise FileNotFoundError(f"ensemble: no final checkpoint in {run}")
        averaged = load_run(path)
        if not averaged.ema:
            raise ConfigError([f"ensemble: {path} holds no EMA average; train the run with "
                               "regularization.ema_decay (e.g. --set "
                               "regularization.ema_decay=0.999)"])
        return cls([load_run(path, ema=False), averaged], **kwargs)

    @classmethod
    def from_seeds(cls, config, seeds=(0, 1, 2, 3, 4), out="runs/seeds", log=print, **kwargs):
        """Train ``config`` once per seed (same hyper-parameters, different initialisation
        and shuffling) into ``out/seed-<s>`` and ensemble the runs. The seed also draws the
        validation split, and the test split of a dataset without one: evaluate such an
        ensemble on data none of its members trained on (``evaluate(dataset)``)."""
        from gradkit.experiment import train

        runs = []
        for seed in seeds:
            run_config = config.model_copy(update={"seed": seed,
                                                   "out": str(Path(out) / f"seed-{seed}")})
            runs.append(train(run_config, report=False, log=log).run_dir)
        return cls(runs, **kwargs)

    # ----- a folder -----
    def save(self, folder):
        """Write the members' checkpoints and manifest.json into ``folder``; returns it."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        entries = []
        for i, m in enumerate(self.members):
            name = f"member-{i:02d}.safetensors"
            shutil.copyfile(m.checkpoint, folder / name)
            entries.append({"file": name, "source": str(m.checkpoint), "ema": m.ema,
                            **_architecture(m)})
        manifest = {"method": self.method, "weights": self.weights.tolist(), "members": entries}
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        return folder

    @classmethod
    def load(cls, folder):
        """The ensemble saved in ``folder``; ConfigError when a member file's architecture is
        not the manifest's."""
        folder = Path(folder)
        manifest = json.loads((folder / "manifest.json").read_text())
        members = []
        for entry in manifest["members"]:
            run = load_run(folder / entry["file"], ema=entry.get("ema", True))
            expected = {k: entry[k] for k in ("model", "kwargs", "classes", "input_shape")}
            got = json.loads(json.dumps(_architecture(run)))
            if got != expected:
                raise ConfigError([f"ensemble: {folder / entry['file']} is not the member the "
                                   f"manifest names: it holds {_describe(got)}, expected "
                                   f"{_describe(expected)}"])
            members.append(run)
        return cls(members, weights=manifest["weights"], method=manifest["method"])

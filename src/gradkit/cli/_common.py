"""What several sub-commands share: the ``--threads`` option, ``Name(key=value)`` specs
(``--augment``, ``--callback``), and naming a run (``latest``, a run folder or a checkpoint).

    add_threads_option(parser)            # --threads N, N >= 1
    parse_spec("EarlyStopping(patience=5)", "--callback", "callbacks")
        # -> {"name": "EarlyStopping", "params": {"patience": 5}}
    run_folder_of("latest")               # -> runs/mlp-spiral-3, where runs/latest points
    checkpoint_of("runs/x")               # -> runs/x/checkpoints/last.safetensors
"""

import argparse
import ast
from pathlib import Path

from gradkit.train.runs import RUNS

LATEST = RUNS / "latest"


def threads_count(text):
    """argparse type of ``--threads``: a whole number >= 1."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of threads >= 1, got {text!r} (e.g. --threads 2)")
    return int(text)


def add_threads_option(parser, dest="threads"):
    parser.add_argument(
        "--threads", dest=dest, type=threads_count, metavar="N", default=None,
        help="threads for gradkit's ops (calls gradkit.set_num_threads(N); default: the "
             "policy of gradkit.threads)")


def parse_spec(spec, flag, key):
    """'RandomCrop(size=32, padding=4)' -> {"name": "RandomCrop", "params": {...}}; literal
    values only (nothing is evaluated). ``flag`` and the config ``key`` name it in errors."""
    from gradkit.config import ConfigError

    try:
        node = ast.parse(spec.strip(), mode="eval").body
        if isinstance(node, ast.Name):
            return {"name": node.id, "params": {}}
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.args:
            return {"name": node.func.id,
                    "params": {k.arg: ast.literal_eval(k.value) for k in node.keywords}}
    except (SyntaxError, ValueError):
        pass
    raise ConfigError([f"{key}: cannot read {flag} {spec!r}; write a name or "
                       "Name(key=value, ...) with literal values"])


def parse_specs(specs, flag, key):
    """The list a repeated ``flag`` gives; 'none' empties the list built so far."""
    out = []
    for spec in specs:
        out = [] if spec.strip().lower() == "none" else out + [parse_spec(spec, flag, key)]
    return out


def run_folder_of(name):
    """A run folder from what the user typed: ``latest`` is the folder runs/latest links to
    (the newest run of this directory; ``gradkit train`` keeps the link), relative to here
    when it is below; anything else is taken as it is."""
    if name != "latest":
        return Path(name)
    if not LATEST.exists():
        raise FileNotFoundError(
            f"latest: there is no {LATEST} here (it links to the newest run once `gradkit "
            f"train` has started one in this directory); name a run folder instead, "
            f"e.g. runs/lenet5-mnist5k")
    target = LATEST.resolve()
    try:
        return target.relative_to(Path.cwd().resolve())
    except ValueError:
        return target


def checkpoint_of(name):
    """A checkpoint file; for a run folder (or ``latest``), its final weights."""
    from gradkit.experiment import final_checkpoint

    path = run_folder_of(name)
    return final_checkpoint(path) if path.is_dir() else path


def refuse_non_finite(value, what, checkpoint):
    """Raise ValueError when a model's output ``value`` holds NaN or infinity (JSON cannot
    carry them, and they mean the weights are broken, not the input)."""
    import numpy as np

    if not np.isfinite(value).all():
        raise ValueError(f"{checkpoint} gives a non-finite {what}: its weights hold NaN or "
                         "infinity (a diverged training?); train again with a lower "
                         "learning rate")

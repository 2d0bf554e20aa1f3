"""``gradkit predict``: the top-k classes of image files or array samples, printed as JSON.

    gradkit predict --checkpoint runs/lenet5-mnist5k digit.png
    gradkit predict --checkpoint latest --invert no --top-k 1 samples.npz

Each input gives {"input", "inverted", "top": [{"class", "index", "probability"}, ...]}; the
output is always strict JSON (no NaN). How files are read and when an image is inverted:
gradkit.cli.inputs; an inverted image is also told on stderr.
"""

import json
import sys

import numpy as np

from gradkit.cli._common import add_threads_option, checkpoint_of, refuse_non_finite
from gradkit.cli.inputs import read_inputs, training_background


def add_parser(subparsers):
    p = subparsers.add_parser(
        "predict", help="top-k classes for image files or an .npz (prints JSON)",
        description="Classify image files (read with Pillow, converted to the model's channels "
                    "and size, scaled to [0, 1]) or the samples of .npz/.npy files (array 'x', "
                    "else the first array) with a checkpoint; prints JSON with the top-k "
                    "classes.")
    p.add_argument("--checkpoint", required=True, metavar="PATH",
                   help="a .safetensors checkpoint, a run folder (its final weights), or "
                        "'latest' (runs/latest, the newest run)")
    p.add_argument("--top-k", type=int, default=3, help="classes to list per input (default 3)")
    p.add_argument("--invert", choices=("auto", "yes", "no"), default="auto",
                   help="invert images (x -> 1 - x): auto (default) when a one-channel image's "
                        "background, read from its border, is light and the training data's "
                        "was dark (or the reverse); yes: always; no: never")
    p.add_argument("files", nargs="+", metavar="FILE", help="image files, .npz or .npy files")
    add_threads_option(p)
    p.set_defaults(run=run)


def run(args):
    from gradkit.experiment import load_run

    loaded = load_run(checkpoint_of(args.checkpoint), fuse=True)
    k = max(1, min(args.top_k, len(loaded.classes)))
    background = training_background(loaded)
    results = []
    for file in args.files:
        x, names, inverted, notes = read_inputs(file, loaded.input_shape, args.invert,
                                                background)
        probs = loaded.predict(x)
        refuse_non_finite(probs, "output", loaded.checkpoint)
        for note in notes:
            print(note, file=sys.stderr)
        for name, flipped, p in zip(names, inverted, probs):
            top = np.argsort(-p, kind="stable")[:k]
            results.append({"input": name, "inverted": flipped, "top": [
                {"class": loaded.classes[i], "index": int(i),
                 "probability": round(float(p[i]), 6)} for i in top]})
    print(json.dumps(results, indent=2, allow_nan=False))
    return 0

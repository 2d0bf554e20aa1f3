"""``gradkit eval``: score a checkpoint on a split of a dataset, printed as JSON.

    gradkit eval --checkpoint runs/lenet5-mnist5k              # its final weights, test split
    gradkit eval --checkpoint latest --split val

The model is rebuilt from the config stored in the checkpoint; the splits are made as the run
made them (same seed and fractions), on the run's dataset or another with as many classes.
"""

import json

from gradkit.cli._common import add_threads_option, checkpoint_of, refuse_non_finite


def add_parser(subparsers):
    p = subparsers.add_parser(
        "eval", help="score a checkpoint on a dataset split (prints JSON)",
        description="Rebuild the model of a checkpoint from the config stored in it and score "
                    "it on a split of a dataset: prints JSON with loss, accuracy and per-class "
                    "accuracy.")
    p.add_argument("--checkpoint", required=True, metavar="PATH",
                   help="a .safetensors checkpoint, a run folder (its final weights), or "
                        "'latest' (runs/latest, the newest run)")
    p.add_argument("--dataset", metavar="NAME",
                   help="dataset to score on (default: the one the model was trained on)")
    p.add_argument("--split", choices=("test", "val", "train"), default="test",
                   help="which split (as the run made them; default test)")
    p.add_argument("--root", help="the dataset's folder or file (dataset.root)")
    add_threads_option(p)
    p.set_defaults(run=run)


def run(args):
    from gradkit.config import ConfigError, make_config, merge
    from gradkit.experiment import evaluate, load_run, load_splits

    loaded = load_run(checkpoint_of(args.checkpoint), fuse=True)
    data = loaded.config.model_dump(mode="json")
    layer = {k: v for k, v in (("name", args.dataset), ("root", args.root)) if v is not None}
    config = make_config(merge(data, {"dataset": layer}))
    splits = load_splits(config)
    if len(splits.classes) != len(loaded.classes):
        raise ConfigError([f"dataset: {config.dataset.name} has {len(splits.classes)} classes; "
                           f"the model predicts {len(loaded.classes)}"])
    dataset = getattr(splits, args.split)
    if dataset is None:
        raise ConfigError([f"split: the run has no {args.split} split "
                           "(dataset.val_fraction is 0)"])
    scores = evaluate(loaded, dataset)
    refuse_non_finite(scores["loss"], "loss", loaded.checkpoint)
    result = {"checkpoint": str(loaded.checkpoint), "dataset": config.dataset.name,
              "split": args.split, **scores}
    print(json.dumps(result, indent=2, allow_nan=False))
    return 0

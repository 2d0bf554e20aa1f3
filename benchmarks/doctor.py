"""What the training doctor costs: ``doctor.examine`` with its default settings against one
training run of the same setup, and the Monitor callback's overhead per training step.

    python benchmarks/doctor.py                 # LeNet-5 on MNIST-5k: examine vs 10 epochs
    python benchmarks/doctor.py --quick         # a smoke run (1 epoch, 60 probe steps): it
                                                # runs; its ratios mean nothing
    python benchmarks/doctor.py --threads 1     # single-threaded (steadier on a busy machine)

Setup: LeNet-5 (ReLU, max pooling) on MNIST-5k's 4,000 training images, 10% of them held
out (stratified) for validation; Adam(lr=1e-3), batch 64 (examine's defaults). The training
run is a Trainer over the same data for ``--epochs`` epochs with the validation set scored
after each; ``examine`` runs every check with ``steps=300`` (its per-check times are printed
as it goes). Goal: examine ≤ 2× the 10-epoch run.

Monitor overhead: the same Trainer for ``--steps`` steps without and with
``doctor.Monitor(every=50)``, alternated ``--repeats`` times (so machine load slows both
alike); the medians of the per-step times are compared. Goal: ≤ 10% at every=50.
"""

import argparse
import statistics
import sys
import time

import gradkit as gk
from gradkit import doctor, models, optim
from gradkit.data import DataLoader, datasets, train_val_split
from gradkit.train import Trainer


def _data(samples):
    train = datasets.mnist5k("train")
    if samples < len(train):
        train = gk.data.Subset(train, list(range(0, len(train), len(train) // samples)))
    train, val = train_val_split(train, 0.1, seed=0, stratify=True)
    return train, val


def _arrays(subset):
    x, y = subset.get_batch(list(range(len(subset))))[:2]
    return getattr(x, "_data", x), getattr(y, "_data", y)


def _model(seed=0):
    gk.manual_seed(seed)
    return models.lenet5()


def time_training(train, val, epochs, batch_size=64):
    """Seconds of one Trainer run of ``epochs`` epochs with validation after each."""
    model = _model()
    loader = DataLoader(train, batch_size=batch_size, shuffle=True, seed=0)
    val_loader = DataLoader(val, batch_size=500)
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=1e-3), loader,
                      val_loader=val_loader, max_epochs=epochs)
    started = time.perf_counter()
    trainer.fit()
    return time.perf_counter() - started, trainer.state.history[-1]


def time_examine(train, val, steps):
    """(seconds, report) of examine with default settings but ``steps``."""
    model = _model()
    started = time.perf_counter()
    report = doctor.examine(model, _arrays(train), val=_arrays(val), steps=steps)
    return time.perf_counter() - started, report


def monitor_overhead(train, steps, repeats, every=50):
    """(median s/step without, with Monitor(every)) over ``repeats`` alternated runs."""
    plain, watched = [], []
    for _ in range(repeats):
        for sink, callbacks in ((plain, []), (watched, [doctor.Monitor(every=every)])):
            model = _model()
            loader = DataLoader(train, batch_size=64, shuffle=True, seed=0)
            trainer = Trainer(model, optim.Adam(model.parameters(), lr=1e-3), loader,
                              max_steps=steps, callbacks=callbacks)
            started = time.perf_counter()
            trainer.fit()
            sink.append((time.perf_counter() - started) / steps)
    return statistics.median(plain), statistics.median(watched)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--samples", type=int, default=4000, help="training images used")
    parser.add_argument("--probe-steps", type=int, default=300)
    parser.add_argument("--steps", type=int, default=200, help="steps per overhead run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 1 epoch, 1,000 images, 60 probe steps, 1 repeat")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.samples, args.probe_steps = 1, 1000, 60
        args.steps, args.repeats = 100, 1
    if args.threads is not None:
        gk.set_num_threads(args.threads)
    train, val = _data(args.samples)
    print(f"LeNet-5 on MNIST-5k: {len(train)} train / {len(val)} val images, Adam 1e-3, "
          f"batch 64, threads {gk.get_num_threads()}", flush=True)
    t_train, last = time_training(train, val, args.epochs)
    print(f"training: {args.epochs} epochs in {t_train:.1f} s (val accuracy "
          f"{last.get('val_accuracy', float('nan')):.3f})", flush=True)
    t_exam, report = time_examine(train, val, args.probe_steps)
    print(report, flush=True)
    plain, watched = monitor_overhead(train, args.steps, args.repeats)
    overhead = watched / plain - 1
    rows = [("examine (steps=%d)" % args.probe_steps, f"{t_exam:.1f} s",
             f"{t_exam / t_train:.2f}x the {args.epochs}-epoch run", "<= 2x"),
            (f"training, {args.epochs} epochs", f"{t_train:.1f} s", "", ""),
            ("step, no Monitor", f"{plain * 1e3:.1f} ms", "", ""),
            ("step, Monitor(every=50)", f"{watched * 1e3:.1f} ms", f"{overhead:+.1%}",
             "<= +10%")]
    print()
    print(f"{'measure':<26} {'time':>10}  {'ratio':<28} goal")
    for name, value, ratio, goal in rows:
        print(f"{name:<26} {value:>10}  {ratio:<28} {goal}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

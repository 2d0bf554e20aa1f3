"""Coarse-to-fine: the stages of a search, how each narrows the ranges, and the edge warning.

    plan_stages("coarse-to-fine", trials=40, epochs=10)
    # [{"trials": 30, "epochs": 1}, {"trials": 10, "epochs": 10}]

The narrowing rule, per key, from the previous stage's finished trials sorted best first
(the top ``k``: ``stage["top"]``, default max(3, a quarter of them)):

* a numeric range becomes the span of the top k's values, padded by ``PAD`` (10%) of the old
  width on each side, in positions (log space for a log range), and kept inside the old range;
* but when the best trial's value lies in the outer ``EDGE`` (10%) of the old range, the
  optimum may lie beyond it: that edge *widens* by half the old width instead (unless the
  run config refuses the wider value, e.g. a dropout below 0: then the edge stays);
* a choice keeps the values the top k used.

Each stage says what it did, one line per key:
``optimizer.lr: [1e-05, 0.1] -> [0.000316, 0.0112] (the top 5's span, log scale)``.

The edge warning (``edge_warnings``): a numeric key whose best trial lies in the outer 10% of
its range, with how many of the best 5 lie there too.
"""

import math

from gradkit.tune.space import Choice, Range

PAD = 0.10
EDGE = 0.10
WIDEN = 0.5


def plan_stages(stages, trials, epochs):
    """The list of stages {"trials", "epochs"[, "top"]} a ``stages`` argument means:
    None or "single": one stage of ``trials`` at ``epochs``; "coarse-to-fine": three
    quarters of the trials at 1 epoch, the rest at ``epochs``; a list: itself."""
    if stages is None or stages == "single":
        planned = [{"trials": trials, "epochs": epochs}]
    elif stages == "coarse-to-fine":
        if trials is None or trials < 2:
            raise ValueError(f"tune: coarse-to-fine needs trials >= 2, got {trials}")
        coarse = max(1, round(0.75 * trials))
        coarse = min(coarse, trials - 1)
        planned = [{"trials": coarse, "epochs": 1}, {"trials": trials - coarse,
                                                      "epochs": epochs}]
    elif isinstance(stages, (list, tuple)):
        planned = [dict(s) for s in stages]
        total = sum(s.get("trials", 0) for s in planned)
        if trials is not None and trials != total:
            raise ValueError(f"tune: trials={trials} but the stages add up to {total}; give "
                             "one or the other")
    else:
        raise ValueError(f"tune: stages must be None, 'single', 'coarse-to-fine' or a list of "
                         f"{{'trials': N, 'epochs': E}}, got {stages!r}")
    for i, stage in enumerate(planned):
        for key in ("trials", "epochs"):
            value = stage.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"tune: stage {i + 1} needs {key} as an int >= 1, got "
                                 f"{value!r}")
        unknown = set(stage) - {"trials", "epochs", "top"}
        if unknown:
            raise ValueError(f"tune: stage {i + 1} has unknown keys {sorted(unknown)}; "
                             "allowed: trials, epochs, top")
    return planned


def top_count(n, top=None):
    return min(n, top if top is not None else max(3, n // 4))


def _fmt(v):
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def narrow_range(key, param, top_values, best, accepts=lambda key, value: True):
    """(the new Range, the line that says why) for ``param`` from the top trials' values
    (``best`` is the best trial's); ``accepts(key, value)`` vetoes a widened edge."""
    lo_u, hi_u = param.warp(param.low), param.warp(param.high)
    width = hi_u - lo_u
    us = [param.warp(v) for v in top_values]
    new_lo, new_hi = max(lo_u, min(us) - PAD * width), min(hi_u, max(us) + PAD * width)
    p = param.position(best)
    widened, kept = [], []
    for side, at_edge, far in (("low", p <= EDGE, lo_u - WIDEN * width),
                               ("high", p >= 1 - EDGE, hi_u + WIDEN * width)):
        if not at_edge:
            continue
        if accepts(key, param.unwarp(far)):
            widened.append(side)
        else:
            kept.append(f"the {side} edge stays: the config refuses {_fmt(param.unwarp(far))}")
            far = lo_u if side == "low" else hi_u
        new_lo, new_hi = (far, new_hi) if side == "low" else (new_lo, far)
    if param.integer:
        low, high = (math.floor(param.unwarp_float(new_lo)),
                     math.ceil(param.unwarp_float(new_hi)))
        if low >= high:
            low, high = int(param.low), int(param.high)
    else:
        low, high = param.unwarp(new_lo), param.unwarp(new_hi)
    new = Range(low, high, log=param.log, integer=param.integer)
    span = f"[{_fmt(param.low)}, {_fmt(param.high)}] -> [{_fmt(low)}, {_fmt(high)}]"
    scale = ", log scale" if param.log else ""
    if widened:
        why = (f"widened the {' and '.join(widened)} edge: the best, {_fmt(best)}, lies in "
               f"its outer {EDGE:.0%}{scale}")
    else:
        why = f"the top {len(top_values)}'s span{scale}"
    why = "; ".join([why, *kept])
    return new, f"{key}: {span} ({why})"


def narrow_choice(key, param, top_values):
    kept = tuple(v for v in param.values if v in top_values)
    return Choice(kept), (f"{key}: {list(param.values)} -> {list(kept)} (the values the top "
                          f"{len(top_values)} used)")


def narrow_space(space, ranked, top=None, accepts=lambda key, value: True):
    """The next stage's space and its report lines; ``ranked``: the previous stage's
    finished trials' params, best first."""
    k = top_count(len(ranked), top)
    if k == 0:
        return dict(space), ["no finished trial to narrow around: the ranges stay"]
    best, chosen = ranked[0], ranked[:k]
    new, lines = {}, []
    for key, param in space.items():
        values = [params[key] for params in chosen]
        if isinstance(param, Choice):
            new[key], line = narrow_choice(key, param, values)
        else:
            new[key], line = narrow_range(key, param, values, best[key], accepts)
        lines.append(line)
    return new, lines


def edge_warnings(space, ranked, k=5):
    """One line per numeric key whose best trial lies in the outer EDGE of its range."""
    lines = []
    chosen = ranked[:k]
    for key, param in space.items():
        if not isinstance(param, Range) or not chosen:
            continue
        p = param.position(chosen[0][key])
        if EDGE < p < 1 - EDGE:
            continue
        side = "bottom" if p <= EDGE else "top"
        m = sum((param.position(t[key]) <= EDGE) if side == "bottom" else
                (param.position(t[key]) >= 1 - EDGE) for t in chosen)
        who = "the best trial lies" if m == 1 else f"the best {m} of {len(chosen)} trials lie"
        lines.append(f"{key}: {who} in the {side} {EDGE:.0%} of its range {param}: the best "
                     f"value may lie beyond it; widen that edge")
    return lines

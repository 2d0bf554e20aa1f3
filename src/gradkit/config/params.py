"""Checking the params of the thing a config section names, before any data loads.

``check_params(cls, params, what)`` binds ``params`` to the signature of ``cls`` (no unknown
names, the required ones given, see ``check_arguments``), then checks each value:

* by name, where a rule is known: counts (``step_size``, ``T_max``, ``patience``, ...) are
  ints > 0, ``milestones`` a list of ints > 0, rates (``gamma``, ``max_lr``, ...) numbers > 0,
  floors (``eta_min``, ``min_delta``, ...) numbers >= 0;
* by the default's type otherwise: a number default takes a finite number (not a bool), a
  bool default a bool, a string default a string;

then, for schedules and callbacks, builds the thing once (``trial_scheduler``,
``trial_callback``) so that the class's own checks run too. A problem raises ValueError
``"params.<key>: <rule>, got <value>"``, which the config turns into its key path:

    schedule.params.gamma: must be a finite number, got "x"
    schedule.params.step_size: must be an int > 0, got -1
"""

import json
import math

from gradkit.config.schema import arguments, check_arguments

COUNTS = {"step_size", "T_max", "total_steps", "total_iters", "patience", "steps_per_epoch",
          "every_n_steps", "epochs", "cooldown", "T_0", "T_mult", "n_holes", "save_top_k"}
RATES = {"gamma", "max_lr", "lr", "div_factor", "final_div_factor", "k", "decay", "alpha"}
FLOORS = {"eta_min", "min_lr", "min_delta", "threshold", "eps", "sigma"}
_NONNEG_COUNTS = {"cooldown", "save_top_k"}  # 0 is meaningful (save_top_k: -1 is too)


def _got(value):
    return json.dumps(value, default=str)


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_value(key, value, default):
    """The rule ``value`` breaks, or None."""
    if key in COUNTS:
        low = -1 if key == "save_top_k" else (0 if key in _NONNEG_COUNTS else 1)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            return f"must be an int >= {low}" if low < 1 else "must be an int > 0"
        return None
    if key == "milestones":
        if not isinstance(value, (list, tuple)) or not all(
                isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
            return "must be a list of ints > 0"
        return None
    if key in RATES or key in FLOORS:
        if not _number(value) or not math.isfinite(value):
            return "must be a finite number"
        if key in RATES and value <= 0:
            return "must be > 0"
        if key in FLOORS and value < 0:
            return "must be >= 0"
        return None
    if value is None or default is None:
        return None
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "must be true or false"
    if _number(default):
        return None if _number(value) and math.isfinite(value) else "must be a finite number"
    if isinstance(default, str):
        return None if isinstance(value, str) else "must be a string"
    return None


def check_params(cls, params, what, required=True):
    """Raise ValueError naming ``params.<key>`` unless ``params`` fit ``cls`` (see above)."""
    try:
        check_arguments(cls, params, what, required=required)
    except ValueError as err:
        raise ValueError(f"params: {err}") from None
    accepted = arguments(cls)
    for key, value in params.items():
        default = accepted[key].default
        rule = _check_value(key, value, None if default is accepted[key].empty else default)
        if rule is not None:
            raise ValueError(f"params.{key}: {what}: {rule}, got {_got(value)}")


def _dummy_optimizer():
    import numpy as np

    from gradkit import optim
    from gradkit.nn.parameter import Parameter
    return optim.SGD([Parameter(np.zeros(1, np.float32))], lr=0.1, momentum=0.9)


def trial_scheduler(cls, params):
    """Build scheduler ``cls`` with ``params`` on a one-parameter optimizer and step it twice,
    so that its own checks run; ValueError("params: ...") with its message otherwise."""
    try:
        optimizer = _dummy_optimizer()
        scheduler = cls(optimizer, **params)
        for _ in range(2):
            optimizer.step()
            if cls.__name__ == "ReduceLROnPlateau":
                scheduler.step(1.0)
            else:
                scheduler.step()
    except (TypeError, ValueError, ZeroDivisionError, OverflowError) as err:
        raise ValueError(f"params: {cls.__name__}: {err}") from None


def trial_callback(cls, params):
    """Build callback ``cls`` with ``params`` once (its own checks run; nothing is written)."""
    try:
        cls(**params)
    except ImportError as err:
        raise ValueError(f"name: {cls.__name__} needs a package that is not installed "
                         f"({err})") from None
    except (TypeError, ValueError) as err:
        raise ValueError(f"params: {cls.__name__}: {err}") from None

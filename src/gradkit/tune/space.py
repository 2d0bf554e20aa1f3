"""The search space: run-config keys and the ranges their values are drawn from.

    space = {"optimizer.lr": loguniform(1e-5, 1e-1), "regularization.dropout": uniform(0, 0.5),
             "batch_size": choice([64, 128]), "model.kwargs.depth": intuniform(1, 4)}

The same space in YAML (one key per entry; ``1e-5`` without a dot is read as a number too):

    optimizer.lr: {loguniform: [1.0e-5, 0.1]}
    batch_size: {choice: [64, 128]}

A range is checked before any trial runs: low < high, a log range above 0, and both ends (and
every choice) must make a valid run config, so an unknown key or an out-of-range value fails
with the config's own message (``optimizer.lrr: unknown key; allowed: name, lr, ...``).

Positions: a numeric value's place in its range, 0 at ``low`` and 1 at ``high``, measured in
log space for a log range (1e-3 sits halfway in [1e-5, 1e-1]). The narrowing rule of
coarse-to-fine (gradkit.tune.stages) and the edge warning work in positions.
"""

import math
from dataclasses import dataclass

import optuna

from gradkit.config import ConfigError, make_config, merge, read_yaml, set_key


@dataclass(frozen=True)
class Range:
    """Numbers in [low, high]: uniform in log space when ``log``, integers when ``integer``."""

    low: float
    high: float
    log: bool = False
    integer: bool = False

    @property
    def kind(self):
        return ("int" if self.integer else "") + ("loguniform" if self.log else "uniform")

    def check(self, key):
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (self.low,
                                                                           self.high)):
            raise ConfigError([f"{key}: {self} needs two finite numbers"])
        if self.integer and not all(float(v).is_integer() for v in (self.low, self.high)):
            raise ConfigError([f"{key}: {self} needs integer ends"])
        if not self.low < self.high:
            raise ConfigError([f"{key}: empty or inverted range {self}: low must be < high"])
        if self.log and self.low <= 0:
            raise ConfigError([f"{key}: the log range {self} must stay above 0"])

    def ends(self):
        return [self.low, self.high]

    def to_optuna(self):
        if self.integer:
            return optuna.distributions.IntDistribution(int(self.low), int(self.high),
                                                        log=self.log)
        return optuna.distributions.FloatDistribution(self.low, self.high, log=self.log)

    def warp(self, value):
        return math.log(value) if self.log else float(value)

    def unwarp_float(self, u):
        return math.exp(u) if self.log else u

    def unwarp(self, u):
        value = self.unwarp_float(u)
        return int(round(value)) if self.integer else value

    def position(self, value):
        """(t(value) − t(low)) / (t(high) − t(low)), t = log for a log range."""
        lo, hi = self.warp(self.low), self.warp(self.high)
        return (self.warp(value) - lo) / (hi - lo)

    def to_spec(self):
        return {self.kind: [self.low, self.high]}

    def __str__(self):
        return f"{self.kind}({self.low:g}, {self.high:g})"


@dataclass(frozen=True)
class Choice:
    """One of ``values`` (numbers, strings, booleans), drawn with equal chances."""

    values: tuple

    def check(self, key):
        if not self.values:
            raise ConfigError([f"{key}: choice([]) has nothing to choose from"])
        for value in self.values:
            if value is not None and not isinstance(value, (bool, int, float, str)):
                raise ConfigError([f"{key}: choice values must be numbers, strings, booleans "
                                   f"or null (what Optuna stores), got {value!r}; search the "
                                   "parts of a list as keys of their own"])

    def ends(self):
        return list(self.values)

    def to_optuna(self):
        return optuna.distributions.CategoricalDistribution(self.values)

    def to_spec(self):
        return {"choice": list(self.values)}

    def __str__(self):
        return f"choice({list(self.values)})"


def loguniform(low, high):
    """Uniform in log space: each decade of [low, high] is as likely (rates, decays)."""
    return Range(float(low), float(high), log=True)


def uniform(low, high):
    return Range(float(low), float(high))


def intuniform(low, high, log=False):
    return Range(int(low), int(high), log=log, integer=True)


def choice(values):
    return Choice(tuple(values))


_KINDS = {"uniform": uniform, "loguniform": loguniform, "intuniform": intuniform,
          "intloguniform": lambda lo, hi: intuniform(lo, hi, log=True), "choice": choice}


def _number(key, value):
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError([f"{key}: range ends must be numbers, got {value!r}"])
    return value


def parse_param(key, spec):
    """A Range or Choice from itself or its YAML form (``{loguniform: [1e-5, 0.1]}``)."""
    if isinstance(spec, (Range, Choice)):
        return spec
    if not (isinstance(spec, dict) and len(spec) == 1 and next(iter(spec)) in _KINDS):
        raise ConfigError([f"{key}: expected one of {', '.join(_KINDS)} (e.g. "
                           f"{{loguniform: [1.0e-5, 0.1]}}), got {spec!r}"])
    kind, args = next(iter(spec.items()))
    if kind == "choice":
        return choice(args if isinstance(args, (list, tuple)) else [args])
    if not isinstance(args, (list, tuple)) or len(args) != 2:
        raise ConfigError([f"{key}: {kind} takes [low, high], got {args!r}"])
    return _KINDS[kind](*(_number(key, v) for v in args))


def parse_space(space):
    """{key: Range | Choice} from a dict (Python or YAML form) or a YAML file's path."""
    if not isinstance(space, dict):
        space = read_yaml(space)
    if not space:
        raise ConfigError(["space: no keys to search"])
    return {key: parse_param(key, spec) for key, spec in space.items()}


def config_data(config):
    """A run config as plain data that validates back to the same config."""
    return config.model_dump(mode="json")


def with_values(data, values):
    """``data`` (plain config) with the dotted keys of ``values`` set; validated Config."""
    layer = {}
    for key, value in values.items():
        set_key(layer, key, value)
    return make_config(merge(data, layer))


def check_space(data, space):
    """Check every range and that its ends (every choice) make a valid run config; one
    ConfigError naming the key and the config's complaint, before any trial runs."""
    for key, param in space.items():
        param.check(key)
        for value in param.ends():
            try:
                with_values(data, {key: value})
            except ConfigError as err:
                raise ConfigError([f"space: {key} = {value!r} is not a valid run config: "
                                   + "; ".join(err.errors)]) from None


def valid(data, key, value):
    """True when setting ``key`` to ``value`` leaves a valid run config."""
    try:
        with_values(data, {key: value})
    except ConfigError:
        return False
    return True

"""The doctor's checks, by name: each family module registers its checks with ``@check``.

A check is ``fn(setup) -> (CheckResult, [Finding, ...])``: it measures one thing on the
configuration (``doctor.setup.Setup``), says what it measured, and reports what is wrong. It
skips itself (``CheckResult("skip", note=why)``) when it does not apply. Families run in the
order of ``FAMILIES``: the data first, then the checks before training, then the probe run's
monitors, then the diagnoses that need them.
"""

from dataclasses import dataclass

FAMILIES = ("data", "before_training", "monitor", "diagnosis")


@dataclass(frozen=True)
class Check:
    name: str
    family: str
    fn: object
    doc: str


CHECKS = {}


def check(name, family):
    """Register ``fn`` as the check ``name`` of ``family`` (one of FAMILIES)."""
    if family not in FAMILIES:
        raise ValueError(f"check {name!r}: family must be one of {FAMILIES}, got {family!r}")

    def register(fn):
        if name in CHECKS:
            raise ValueError(f"doctor: two checks are named {name!r}")
        first = (fn.__doc__ or "").strip().split("\n\n")[0]  # the first paragraph
        CHECKS[name] = Check(name, family, fn, " ".join(first.split()))
        return fn

    return register


def ordered(names=None):
    """The checks to run, in family order; ``names`` selects some (unknown ones raise)."""
    if names is not None:
        unknown = sorted(set(names) - set(CHECKS))
        if unknown:
            raise ValueError(f"doctor: unknown check(s) {', '.join(unknown)}; the checks are "
                             f"{', '.join(sorted(CHECKS))}")
    chosen = [c for c in CHECKS.values() if names is None or c.name in names]
    return sorted(chosen, key=lambda c: FAMILIES.index(c.family))

"""What the doctor reports: Findings (something is wrong, with evidence and a fix) and
CheckResults (what each check measured), and the stable finding codes with their ranking.

A Finding's ``code`` is one of ``CODES``: each family module registers its codes with
``register_code(code, severity, rule)``, where ``rule`` is the measured rule and threshold in
one sentence (the table in docs/doctor.md is made from these). ``RANK`` orders the codes from
root causes to symptoms: findings are listed in that order (a learning rate too high comes
before the NaN loss it causes), errors and warnings before infos.
"""

from dataclasses import asdict, dataclass, field

SEVERITIES = ("error", "warning", "info")
STATUSES = ("pass", "fail", "skip")

# Root causes first: the data, then the model's wiring, then the optimization, then what
# training shows (fit, generalization), then notes.
RANK = [
    "bad_input_values", "label_mismatch", "probabilities_as_logits", "gradient_mismatch",
    "data_leakage", "input_not_normalized", "parameters_not_updating", "symmetric_weights",
    "initial_loss_off", "lr_too_high", "exploding_gradients", "nan_loss", "lr_too_low",
    "vanishing_gradients", "dead_relu", "saturated_activations", "regularization_too_strong",
    "regularization_ineffective", "optimization_issue", "model_bias", "saddle_point",
    "local_minimum", "cannot_overfit", "underfitting", "no_learnable_signal", "overfitting",
    "class_imbalance", "no_validation_set",
]


@dataclass(frozen=True)
class Code:
    code: str
    severity: str  # the usual severity (a finding may say otherwise)
    rule: str  # the rule and its threshold, in one sentence


CODES = {}


def register_code(code, severity, rule):
    """Declare a finding code (called once per code by the family module that measures it)."""
    if severity not in SEVERITIES:
        raise ValueError(f"register_code({code!r}): severity must be one of {SEVERITIES}")
    if code not in RANK:
        RANK.append(code)
    CODES[code] = Code(code, severity, rule)
    return code


@dataclass
class Finding:
    """One thing wrong (or worth knowing), with the evidence and the fix.

    ``evidence``: the measured numbers; ``explanation``: what the course notes say and why it
    matters; ``fix``: the change to make, in words; ``overrides``: the same fix as run-config
    overrides where it can be said that way (``{"optimizer.lr": 3e-3}``), else {};
    ``layer``: the module name (``"features.3"``) where the finding is localized, else None."""

    code: str
    severity: str
    title: str
    evidence: dict = field(default_factory=dict)
    explanation: str = ""
    fix: str = ""
    overrides: dict = field(default_factory=dict)
    layer: str = None

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"Finding {self.code}: severity must be one of {SEVERITIES}, "
                             f"got {self.severity!r}")

    def to_dict(self):
        return _plain(asdict(self))

    def __str__(self):
        where = f" [{self.layer}]" if self.layer else ""
        lines = [f"{self.severity.upper()} {self.code}{where}: {self.title}"]
        if self.evidence:
            lines.append("  evidence: " + ", ".join(f"{k}={_short(v)}"
                                                    for k, v in self.evidence.items()))
        if self.explanation:
            lines.append(f"  why: {self.explanation}")
        if self.fix:
            lines.append(f"  fix: {self.fix}")
        if self.overrides:
            lines.append("  try: " + " ".join(f"--set {k}={v}" for k, v in self.overrides.items()))
        return "\n".join(lines)


@dataclass
class CheckResult:
    """What one check measured: ``status`` 'pass' | 'fail' | 'skip', the measured ``value``,
    the ``expected`` value or range, and a ``note`` (why it failed or skipped)."""

    status: str
    value: object = None
    expected: object = None
    note: str = ""

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"CheckResult: status must be one of {STATUSES}, "
                             f"got {self.status!r}")

    def to_dict(self):
        return _plain(asdict(self))


def sort_findings(findings):
    """Errors and warnings in RANK order (root causes first), then infos."""
    def key(f):
        rank = RANK.index(f.code) if f.code in RANK else len(RANK)
        return (f.severity == "info", rank, SEVERITIES.index(f.severity))
    return sorted(findings, key=key)


def _short(v, width=72):
    """A value for the text report: 4 significant digits, long ones cut (the JSON has all)."""
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        text = "[" + ", ".join(_short(x, width) for x in v[:6]) + (", ...]" if len(v) > 6
                                                                   else "]")
    elif isinstance(v, dict):
        text = "{" + ", ".join(f"{k}: {_short(x, width)}" for k, x in v.items()) + "}"
    else:
        text = str(v)
    return text if len(text) <= width else text[:width - 3] + "..."


def _plain(value):
    """JSON-able: numpy scalars and arrays to Python numbers and lists, NaN/inf to strings."""
    import math

    import numpy as np

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value

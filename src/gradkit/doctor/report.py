"""DoctorReport: what ``examine`` returns: the findings (most important first), every check's
result, a readable text form, a JSON form, and ``save(dir)`` (doctor.json + doctor.html)."""

import json
from pathlib import Path

from gradkit.doctor.findings import _plain, sort_findings


class DoctorReport:
    """``findings``: list of Finding, root causes first; ``checks``: {name: CheckResult};
    ``ok``: no finding of severity 'error' or 'warning'; ``figures``: the measurements the
    HTML page draws (loss curve, lr range test, per-layer monitors); ``meta``: what was
    examined (model, data sizes, seconds)."""

    def __init__(self, findings, checks, figures=None, meta=None, setup=None):
        self.findings = sort_findings(findings)
        self.checks = dict(checks)
        self.figures = figures or {}
        self.meta = meta or {}
        self.setup = setup  # kept for try_fixes (the configuration under diagnosis)
        self.fixes = None  # filled by try_fixes

    @property
    def ok(self):
        return not any(f.severity in ("error", "warning") for f in self.findings)

    def codes(self):
        """The finding codes, in report order."""
        return [f.code for f in self.findings]

    def try_fixes(self, steps=None):
        """Re-run the probe with each finding's overrides; see doctor.fixes."""
        from gradkit.doctor.fixes import try_fixes

        self.fixes = try_fixes(self, steps=steps)
        return self.fixes

    def to_dict(self):
        return _plain({
            "ok": self.ok, "meta": self.meta,
            "findings": [f.to_dict() for f in self.findings],
            "checks": {name: r.to_dict() for name, r in self.checks.items()},
            "fixes": self.fixes, "figures": self.figures,
        })

    def save(self, directory):
        """Write ``doctor.json`` and ``doctor.html`` into ``directory``; returns the html path."""
        from gradkit.report.doctor import write_doctor_page

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        data = self.to_dict()
        tmp = directory / "doctor.json.tmp"
        tmp.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n")
        tmp.replace(directory / "doctor.json")
        return write_doctor_page(directory / "doctor.html", data)

    def __str__(self):
        lines = []
        what = self.meta.get("model")
        if what:
            lines.append(f"gradkit doctor: {what}")
        width = max((len(n) for n in self.checks), default=10)
        lines.append("checks:")
        for name, r in self.checks.items():
            detail = _detail(r)
            lines.append(f"  {name:<{width}}  {r.status:<4}  {detail}".rstrip())
        if self.findings:
            lines.append(f"findings ({len(self.findings)}, most important first):")
            lines.extend(str(f) for f in self.findings)
        verdict = ("no problems found" if self.ok and not self.findings
                   else "ok (notes only)" if self.ok else "problems found")
        lines.append(f"verdict: {verdict}")
        return "\n".join(lines)

    def __repr__(self):
        return f"<DoctorReport ok={self.ok} findings={self.codes()}>"


def _detail(r):
    parts = []
    if r.value is not None:
        parts.append(f"value {_fmt(r.value)}")
    if r.expected is not None:
        parts.append(f"expected {_fmt(r.expected)}")
    if r.note:
        parts.append(r.note)
    return "; ".join(parts)


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(_fmt(x) for x in v) + ")"
    return str(v)

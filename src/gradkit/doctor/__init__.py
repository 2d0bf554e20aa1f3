"""The training doctor: the cs231n "babysitting" checklist as one call, with diagnoses and
fixes that are tried.

    from gradkit import doctor
    report = doctor.examine(model, train, val=val, optimizer=opt, steps=300)
    print(report)              # checks, then findings: most important first, with evidence
    report.ok                  # no finding of severity 'error' or 'warning'
    report.try_fixes()         # re-run the probe with each finding's fix: did it help?
    report.save("runs/doctor") # doctor.json + doctor.html

Arguments of ``examine``: ``model`` any nn.Module (the doctor works on copies: the model, its
weights and the global RNG are unchanged afterwards); ``train``/``val`` a dataset (``.x``/``.y``
or ``(x, y)`` items), a DataLoader, or an ``(x, y)`` pair; ``loss_fn`` default
F.cross_entropy; ``optimizer`` an Optimizer instance (its class, groups and hyper-parameters
are copied for each probe) or a callable ``params -> Optimizer``, default Adam(lr=1e-3);
``steps`` the budget of the probe training run; ``checks`` names of the checks to run (default:
all that apply; each one that does not apply says why it skipped).

One module per family of checks: ``data`` (inputs and labels), ``before`` and ``fitting``
(before training: gradient check, initial loss, initialization; overfitting a tiny subset,
regularization),
``training`` (the probe run watched by ``Monitor``: learning rate, gradients, activations,
fit and generalization), ``diagnoses`` (learning-rate range test, critical points through
Hessian eigenvalues, model bias against optimization issues). Findings and their codes:
``findings``; the table of codes with their rules: docs/doctor.md.
"""

from gradkit.doctor.findings import CODES, CheckResult, Finding
from gradkit.doctor.registry import CHECKS
from gradkit.doctor.report import DoctorReport
from gradkit.doctor.examine import examine
from gradkit.doctor import data, before, fitting, training, diagnoses  # noqa: F401  (checks)
from gradkit.doctor.monitor import Monitor
from gradkit.doctor.posthoc import diagnose_run

__all__ = ["CHECKS", "CODES", "CheckResult", "DoctorReport", "Finding", "Monitor",
           "diagnose_run", "examine"]

"""Figures and reports (``gradkit.report``). matplotlib is imported only when a figure is
drawn (pip install matplotlib, or 'gradkit[report]'). report/ draws the data it is handed and
reads no run folder: ``gradkit.run_report.write_run_report(run_dir)`` gathers one.

    augmentation_grid(transform, images, "aug.png")   # what an augmentation pipeline does
    render_report(RunData(name="demo", steps=steps))   # a run report as one HTML string
"""

from gradkit.report.augmentation import augmentation_grid
from gradkit.report.data import Evaluation, RunData
from gradkit.report.html import render_report

__all__ = ["augmentation_grid", "Evaluation", "RunData", "render_report"]

"""Figures and reports (``gradkit.report``). matplotlib is imported only when a figure is
drawn (pip install matplotlib, or 'gradkit[report]').

    augmentation_grid(transform, images, "aug.png")   # what an augmentation pipeline does
    write_report("runs/lenet5-mnist5k")                # the run's self-contained report.html
"""

from gradkit.report.augmentation import augmentation_grid
from gradkit.report.html import write_report

__all__ = ["augmentation_grid", "write_report"]

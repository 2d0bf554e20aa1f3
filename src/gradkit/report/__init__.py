"""Figures and reports (``gradkit.report``). matplotlib is imported only when a figure is
drawn (pip install matplotlib, or 'gradkit[report]')."""

from gradkit.report.augmentation import augmentation_grid

__all__ = ["augmentation_grid"]

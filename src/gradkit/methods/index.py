"""Tensor methods for gathering and scattering (gather, scatter, index_select, masked_fill, ...).

A mixin of :class:`gradkit.Tensor` (``__slots__ = ()``, no state): each method forwards to the
op of the same name in gradkit.ops, so ``x....`` and ``gk....`` are one code path. The ops
import Tensor, so they are reached through the ``gradkit`` package at call time.
"""

import gradkit


class IndexMethods:
    __slots__ = ()

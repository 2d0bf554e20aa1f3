"""Tensor methods and properties that are aliases, metadata (``stride``, ``element_size``,
``mT``) or small ops without a room of their own.

A mixin of :class:`gradkit.Tensor` (``__slots__ = ()``, no state): each method forwards to
gradkit's ops at call time (the ops import Tensor, so they are reached through the ``gradkit``
package).
"""

import gradkit


class MiscMethods:
    __slots__ = ()

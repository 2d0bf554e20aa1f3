"""Tensor's in-place twins of out-of-place ops (``x.exp_()``, ...), recorded through
``Tensor._inplace`` so autograd and the version counter stay right.

A mixin of :class:`gradkit.Tensor` (``__slots__ = ()``, no state): each method forwards to
gradkit's ops at call time (the ops import Tensor, so they are reached through the ``gradkit``
package).
"""

import gradkit


class InplaceMethods:
    __slots__ = ()

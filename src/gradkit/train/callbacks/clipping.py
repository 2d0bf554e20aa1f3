"""GradientClipping: bound the gradients after backward, before the optimizer step.

``max_norm``: scale all gradients together so their joint ``norm_type``-norm is at most
max_norm (``nn.utils.clip_grad_norm_``; the norm before clipping is reported as
``grad_norm``). ``clip_value``: clamp every entry into [−clip_value, clip_value]
(``nn.utils.clip_grad_value_``). Give exactly one.
"""

from gradkit.nn.utils import clip_grad_norm_, clip_grad_value_
from gradkit.train.callbacks.base import PRIORITY_EDITOR, Callback


class GradientClipping(Callback):
    """Clip the model's gradients by norm (``max_norm``) or by value (``clip_value``)."""

    priority = PRIORITY_EDITOR

    def __init__(self, max_norm=None, norm_type=2.0, clip_value=None):
        if (max_norm is None) == (clip_value is None):
            raise ValueError("GradientClipping: give exactly one of max_norm and clip_value")
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.clip_value = clip_value

    def on_after_backward(self, trainer):
        params = list(trainer.model.parameters())
        if self.max_norm is not None:
            total = clip_grad_norm_(params, self.max_norm, self.norm_type)
            trainer.report("grad_norm", total)
        else:
            clip_grad_value_(params, self.clip_value)

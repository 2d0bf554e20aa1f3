"""``summary(model, input_size)``: torchinfo's table for a gradkit model, with every layer's
output shape, parameter count and mult-adds, from one forward pass.

    >>> s = gk.summary(models.lenet5(), (1, 1, 28, 28))   # input_size includes the batch
    >>> s.total_params, s.total_mult_adds
    (61706, 423038)
    >>> print(s)                                          # the table, then the totals

The model runs once on random inputs (a private generator: gradkit's RNG is not touched)
under ``no_grad`` and in eval mode, with forward hooks on every submodule; afterwards the
hooks are removed and each module's train/eval flag is put back, so the model is left
exactly as it was.

Rows are the submodules in the order they are called (a module called twice gives two
rows); ``params`` counts a row's own parameters (not its children's), the totals count each
parameter once. Mult-adds follow torchinfo's rule for Linear and Conv1d/2d: each weight and
bias entry once per output position (Linear: every leading index of the output, batch
included; ConvNd: batch × output length or height × width), so a bias add counts as one
mult-add. Other layers (activations, pooling, normalization) count 0.
"""

import math
from dataclasses import dataclass

import numpy as np

from gradkit.autograd import no_grad
from gradkit.tensor import Tensor

_WIDTHS = (40, 20, 12, 14)


@dataclass
class LayerRow:
    """One call of one submodule."""

    name: str
    type: str
    depth: int
    output_shape: list
    params: int
    trainable_params: int
    mult_adds: int


@dataclass
class ModelSummary:
    """What ``summary`` found; ``str()`` is the table with the totals."""

    model_type: str
    input_size: list
    output_shape: list
    layers: list
    total_params: int
    trainable_params: int
    total_mult_adds: int

    def __str__(self):
        rule, thin = "=" * sum(_WIDTHS), "-" * sum(_WIDTHS)
        lines = [rule, _row("Layer (type)", "Output shape", "Param #", "Mult-adds"), rule,
                 _row(self.model_type, _shape(self.output_shape), "--", "--")]
        for r in self.layers:
            label = "  " * r.depth + f"{r.name} ({r.type})"
            own = f"{r.params:,}" if r.params or not _is_container(r, self.layers) else "--"
            lines.append(_row(label, _shape(r.output_shape), own,
                              f"{r.mult_adds:,}" if r.mult_adds else "--"))
        lines += [rule, f"Total params: {self.total_params:,}",
                  f"Trainable params: {self.trainable_params:,}",
                  f"Non-trainable params: {self.total_params - self.trainable_params:,}",
                  f"Total mult-adds: {self.total_mult_adds:,}", thin,
                  f"Input size: {_shape(self.input_size)}", rule]
        return "\n".join(lines)


def _row(*cells):
    first = cells[0] if len(cells[0]) < _WIDTHS[0] else cells[0][:_WIDTHS[0] - 2] + "…"
    return first.ljust(_WIDTHS[0]) + "".join(
        str(c).ljust(w) if i == 0 else str(c).rjust(w)
        for i, (c, w) in enumerate(zip(cells[1:], _WIDTHS[1:])))


def _shape(shape):
    return str(list(shape)) if shape is not None else "--"


def _is_container(row, rows):
    prefix = row.name + "."
    return any(r.name.startswith(prefix) for r in rows)


def _mult_adds(module, output, params):
    """torchinfo's count (see the module docstring) for Linear and Conv1d/2d, else 0."""
    from gradkit import nn

    shape = output.shape
    if isinstance(module, nn.Linear):
        return params * math.prod(shape[:-1])
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        return params * shape[0] * math.prod(shape[2:])
    return 0


def _first_tensor(output):
    if isinstance(output, Tensor):
        return output
    if isinstance(output, (tuple, list)):
        return next((t for t in map(_first_tensor, output) if t is not None), None)
    return None


def _is_shape(size):
    return (isinstance(size, (tuple, list)) and
            all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in size))


def _inputs(input_size, dtype):
    """Random inputs of ``input_size`` (a shape, or a list of shapes for several inputs)."""
    several = isinstance(input_size, (tuple, list)) and input_size and all(
        isinstance(size, (tuple, list)) for size in input_size)
    sizes = list(input_size) if several else [input_size]
    if not all(map(_is_shape, sizes)):
        raise ValueError(f"summary: input_size must be a shape of non-negative ints, batch "
                         f"included, e.g. (1, 1, 28, 28), or a list of shapes; got "
                         f"{input_size!r}")
    rng, dtype = np.random.default_rng(0), np.dtype(dtype)
    return [Tensor._make(rng.standard_normal(size).astype(dtype) if dtype.kind == "f"
                         else np.zeros(size, dtype), None) for size in sizes]


def summary(model, input_size, dtype=np.float32):
    """The ModelSummary of ``model`` on an input of ``input_size`` (batch dimension included;
    a list of shapes for a model with several inputs) of ``dtype``. See the module docstring."""
    inputs = _inputs(input_size, dtype)
    names = {id(m): name for name, m in model.named_modules() if name}
    modes = [(m, m.training) for m in model.modules()]
    rows, pending, handles = [], {}, []

    def before(module, args):
        name = names[id(module)]
        own = list(module.parameters(recurse=False))
        row = LayerRow(name, type(module).__name__, name.count("."), None,
                       sum(p.numel() for p in own),
                       sum(p.numel() for p in own if p.requires_grad), 0)
        rows.append(row)
        pending.setdefault(id(module), []).append(row)

    def after(module, args, output):
        row = pending[id(module)].pop()
        out = _first_tensor(output)
        if out is not None:
            row.output_shape = list(out.shape)
            row.mult_adds = _mult_adds(module, out, row.params)

    for name, module in model.named_modules():
        if name:
            handles += [module.register_forward_pre_hook(before),
                        module.register_forward_hook(after)]
    try:
        model.eval()
        with no_grad():
            output = model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes:
            module.training = training
    params = list(model.parameters())
    out = _first_tensor(output)
    return ModelSummary(type(model).__name__, list(input_size),
                        list(out.shape) if out is not None else None, rows,
                        sum(p.numel() for p in params),
                        sum(p.numel() for p in params if p.requires_grad),
                        sum(r.mult_adds for r in rows))

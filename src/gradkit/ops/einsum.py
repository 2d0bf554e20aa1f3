"""einsum: the equation is parsed once into explicit letters, then forward and backward are
both np.einsum calls.

Parsing turns every ``...`` into fresh letters (right-aligned, as NumPy broadcasts), gives an
implicit output (``'ij,jk'``) the letters seen exactly once in ASCII order after the ``...``
letters, and records each letter's size. Operands are broadcast to those sizes (a view), so a
size-1 dim meeting a size-n dim under the same letter works as in PyTorch.

The gradient of operand k is the einsum of the upstream gradient with the other operands,
written to operand k's letters:

    out = einsum('ij,jk->ik', A, B)   =>   dA = einsum('ik,jk->ij', g, B)

Two cases need more than one call: a letter of operand k found in no other operand nor the
output (``'ij->i'``: j was summed out of A alone) is broadcast back after the call, and a
letter repeated in operand k (``'ii->i'``) takes the gradient on the diagonal only, written
through a strided view of a zero array.
"""

import string

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.tensor import Tensor

_LETTERS = string.ascii_uppercase + string.ascii_lowercase


class Einsum(Function):
    """out = Σ over the letters not in the output of Πₖ xₖ, e.g. out_ik = Σ_j A_ij·B_jk;
    dxₖ = the same sum with g in xₖ's place, to xₖ's letters: dA_ij = Σ_k g_ik·B_jk. A letter
    of xₖ alone is broadcast back, a repeated one (ii) gets g on the diagonal only, and a dim
    broadcast from size 1 is summed back."""

    def forward(self, *arrays, subs, out_sub, sizes):
        self.subs, self.out_sub, self.sizes = subs, out_sub, sizes
        self.shapes = [a.shape for a in arrays]
        self.arrays = [np.broadcast_to(a, [sizes[c] for c in s]) for a, s in zip(arrays, subs)]
        return _contract(self.subs, self.out_sub, self.arrays)

    def backward(self, g):
        return tuple(self._grad(k, g) if need else None
                     for k, need in enumerate(self.needs_input_grad))

    def _grad(self, k, g):
        sub = self.subs[k]
        others = [s for j, s in enumerate(self.subs) if j != k]
        seen = set(self.out_sub).union(*others)
        unique = "".join(dict.fromkeys(sub))
        found = "".join(c for c in unique if c in seen)
        arrays = [g] + [a for j, a in enumerate(self.arrays) if j != k]
        part = _contract([self.out_sub] + others, found, arrays)  # letters found elsewhere
        part = part.reshape([self.sizes[c] if c in found else 1 for c in unique])
        part = np.broadcast_to(part, [self.sizes[c] for c in unique])
        full = [self.sizes[c] for c in sub]
        if len(unique) < len(sub):  # a repeated letter: write through a diagonal view
            grad = np.zeros(full, g.dtype)
            strides = [sum(st for c2, st in zip(sub, grad.strides) if c2 == c) for c in unique]
            np.lib.stride_tricks.as_strided(grad, part.shape, strides)[...] = part
        else:
            grad = part
        shape = self.shapes[k]
        axes = tuple(i for i, (n, m) in enumerate(zip(shape, full)) if n != m)
        return grad.sum(axis=axes, keepdims=True) if axes else grad


def _contract(subs, out_sub, arrays):
    """np.einsum along the path np.einsum_path picks; one operand gives a copy, not a view."""
    equation = ",".join(subs) + "->" + out_sub
    if len(arrays) == 1:
        return np.array(np.einsum(equation, arrays[0]), copy=True)
    path = np.einsum_path(equation, *arrays, optimize="greedy")[0]
    return np.einsum(equation, *arrays, optimize=path)


def _from_sublists(args):
    """PyTorch's sublist form einsum(x, [0, 1], y, [1, 2], [0, 2]) as an equation."""
    def letters(sublist):
        out = []
        for n in sublist:
            if n is Ellipsis:
                out.append("...")
            elif isinstance(n, int) and 0 <= n < len(_LETTERS):
                out.append(_LETTERS[n])
            else:
                raise ArgumentError(f"einsum(): subscript in sublist must be between 0 and 51, "
                                    f"got {n!r}")
        return "".join(out)

    pairs = args[:len(args) - len(args) % 2]
    out = "->" + letters(args[-1]) if len(args) % 2 else ""
    return ",".join(letters(s) for s in pairs[1::2]) + out, list(pairs[0::2])


def _parse(equation, shapes):
    """(input subscripts, output subscript, size of each letter) with '...' made explicit."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    raw = lhs.split(",")
    if len(raw) != len(shapes):
        more = "fewer" if len(shapes) < len(raw) else "more"
        raise ArgumentError(f"einsum(): {more} operands were provided than specified in the "
                            f"equation ({len(shapes)} operands, {len(raw)} in {equation!r})")
    for c in equation.replace("...", "").replace(",", "").replace("->", ""):
        if c not in _LETTERS:
            raise ArgumentError(f"einsum(): invalid subscript {c!r} in {equation!r}: "
                                f"subscripts must be letters [a-zA-Z]")
    used = set(equation)
    fresh = [c for c in _LETTERS if c not in used]
    n_ell = max([len(shape) - len(s.replace("...", "")) for s, shape in zip(raw, shapes)
                 if "..." in s], default=0)
    ell = "".join(fresh[:n_ell])
    subs = []
    for i, (s, shape) in enumerate(zip(raw, shapes)):
        if s.count("...") > 1:
            raise ArgumentError(f"einsum(): found more than one ellipsis in operand {i}: {s!r}")
        named = len(s.replace("...", ""))
        if "..." in s:
            if len(shape) < named:
                raise ShapeError(f"einsum(): operand {i} has {len(shape)} dims, fewer than "
                                 f"the {named} subscripts of {s!r}")
            s = s.replace("...", ell[n_ell - (len(shape) - named):] if len(shape) > named
                          else "")
        elif named != len(shape):
            raise ShapeError(f"einsum(): the number of subscripts in the equation ({named}) "
                             f"does not match the number of dimensions ({len(shape)}) for "
                             f"operand {i} and no ellipsis was given")
        subs.append(s)
    if arrow:
        out_sub = rhs.replace("...", ell)
        for c in out_sub:
            if out_sub.count(c) > 1:
                raise ArgumentError(f"einsum(): output subscript {c} appears more than once "
                                    f"in the output")
            if not any(c in s for s in subs):
                raise ArgumentError(f"einsum(): output subscript {c} does not appear in the "
                                    f"equation for any input operand")
    else:
        joined = "".join(raw)
        out_sub = ell + "".join(sorted(c for c in set(joined) if joined.count(c) == 1
                                       and c != "."))
    return subs, out_sub, _sizes(subs, shapes)


def _sizes(subs, shapes):
    """Each letter's size: equal across operands, or 1 meeting n (broadcast)."""
    sizes = {}
    for i, (s, shape) in enumerate(zip(subs, shapes)):
        mine = {}
        for c, n in zip(s, shape):
            if mine.setdefault(c, n) != n:
                raise ShapeError(f"einsum(): subscript {c} is repeated for operand {i} but "
                                 f"the sizes don't match, {n} != {mine[c]}")
        for c, n in mine.items():
            seen = sizes.setdefault(c, n)
            if n != seen and 1 not in (n, seen):
                raise ShapeError(f"einsum(): subscript {c} has size {n} for operand {i} "
                                 f"which does not broadcast with previously seen size {seen}")
            if seen == 1:
                sizes[c] = n
    return sizes


def einsum(*args):
    """Einstein summation, PyTorch's torch.einsum: ``einsum('ij,jk->ik', a, b)``, the operands
    as one list ``einsum('ij,jk', [a, b])``, or the sublist form ``einsum(a, [0, 1], b, [1, 2],
    [0, 2])``. Letters a-z, A-Z; ``...`` broadcasts; without ``->`` the output is the
    ``...`` dims then the letters seen once, in ASCII order (upper case first)."""
    if not args:
        raise TypeError("einsum(): expected an equation and operands")
    if isinstance(args[0], str):
        equation, operands = args[0], list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
    else:
        equation, operands = _from_sublists(args)
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): operand {i} must be a Tensor, got {type(t).__name__}")
    dtypes = {t.dtype for t in operands}
    if len(dtypes) > 1:
        raise ArgumentError(f"einsum(): the operands must share a dtype, got "
                            f"{[str(t.dtype) for t in operands]}")
    subs, out_sub, sizes = _parse(equation, [t.shape for t in operands])
    return Einsum.apply(*operands, subs=subs, out_sub=out_sub, sizes=sizes)

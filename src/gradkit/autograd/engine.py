"""Reverse-mode differentiation over the recorded graph, without recursion.

1. Walk the graph from the output with an explicit stack, counting for every node how many
   consumers it has inside this graph, and for every leaf how many edges reach it.
2. Process nodes in Kahn order: a node runs its backward once all its consumers have added
   their contribution to its output gradient (so the gradient is complete), then hands each
   input its share. A leaf's gradient is complete when its edge count drops to zero: its hooks
   fire then, exactly once, and the result is added into ``leaf.grad``.

Gradients are plain ndarrays inside the engine; contributions are summed out of place, so a
backward may return the very array it received (``add`` does) without aliasing problems.
A leaf's stored ``.grad`` always owns its memory, so in-place edits of one parameter's
gradient (clipping, all-reduce) never touch another's.

In-place changes are counted on a clock, ``CLOCK`` (see ``note_change``): each version
counter ``[version, has_views, clock of its last change, the array]`` and each recorded node
(``recorded_at``) carry a time. When the clock has moved since a node was recorded (rare: an
optimizer step or an edit between forward and backward), ``check_unmodified`` looks at the node:
an input or output changed since, whose array the node kept for backward, raises PyTorch's
"modified by an inplace operation" error; and an input that an in-place op re-recorded since
(``c += 1`` on a tensor in the graph) is followed to the node it had then (``parent_at``), so
earlier consumers of ``c`` still reach the old ``c``.
"""

import weakref

import numpy as np

CLOCK = [0]  # advanced by every in-place change of a tensor (note_change)


def note_change(vc):
    """Count an in-place change of the array behind version counter ``vc``."""
    CLOCK[0] += 1
    vc[0] += 1
    vc[2] = CLOCK[0]


def array_ref(array):
    """A version counter's reference to its array: weak for an ndarray (call it to get the
    array, None once freed), so that the counter keeps nothing alive; anything else (a NumPy
    scalar) is small and held as is."""
    try:
        return weakref.ref(array)
    except TypeError:
        return lambda: array


class Edge:
    """A node's record of a non-leaf input whose array its backward does not read: the node
    the gradient goes to (the input's grad_fn when the call was recorded), the shape and dtype
    the gradient must have, and a weak reference to the tensor (for graph walks that ask
    which tensor it was, like nn.fuse)."""

    __slots__ = ("grad_fn", "shape", "dtype", "tensor")

    def __init__(self, t):
        self.grad_fn, self.shape, self.dtype = t.grad_fn, t._data.shape, t._data.dtype
        self.tensor = weakref.ref(t)


def _tensor_cls():
    from gradkit.tensor import Tensor

    return Tensor


def _collect(root_fn):
    """Consumer counts for every node and edge counts for every leaf reachable from root_fn."""
    node_deps = {root_fn: 0}
    leaf_deps = {}
    stack = [root_fn]
    while stack:
        fn = stack.pop()
        if fn.inputs is None:
            raise RuntimeError(
                f"backward through {fn} a second time: its saved arrays were freed after the "
                "first backward. Pass retain_graph=True to the first backward() call if you "
                "need to backpropagate through the same graph twice."
            )
        stale = fn.recorded_at != CLOCK[0]
        for t, needed in zip(fn.inputs, fn.needs_input_grad):
            if not needed:
                continue
            parent = parent_at(t, fn.recorded_at) if stale else t.grad_fn
            if parent is None:
                key = id(t)
                leaf_deps[key] = leaf_deps.get(key, 0) + 1
            elif parent in node_deps:
                node_deps[parent] += 1
            else:
                node_deps[parent] = 1
                stack.append(parent)
    return node_deps, leaf_deps


def parent_at(t, time):
    """The grad_fn tensor t had at clock ``time``: in-place ops recorded since re-pointed it."""
    for changed_at, grad_fn in getattr(t, "_rebased", ()):
        if changed_at > time:
            return grad_fn
    return t.grad_fn


_BOOKKEEPING = frozenset(("inputs", "needs_input_grad", "recorded_at", "output_version",
                          "_output", "_output_hooks"))


def _keeps(fn, array):
    """Whether node fn holds, for its backward, an array sharing memory with ``array``."""
    for key, value in fn.__dict__.items():
        if key in _BOOKKEEPING:
            continue
        for v in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(v, np.ndarray) and np.may_share_memory(v, array):
                return True
    return False


def check_unmodified(fn):
    """Raise when an array that node fn saved for backward was changed in place since."""
    time = fn.recorded_at
    for t in fn.inputs:
        if hasattr(t, "_vc") and t._vc[2] > time and _keeps(fn, t._data):
            _raise_modified(fn, t._data, t._vc[0], "")
    vc = fn.output_version
    out = vc[3]() if vc[2] > time and vc[3] is not None else None  # freed: fn did not keep it
    if out is not None and _keeps(fn, out):
        _raise_modified(fn, out, vc[0], f", which is output 0 of {fn.name}Backward,")


def _raise_modified(fn, array, version, which):
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [{array.dtype} tensor of shape {tuple(array.shape)}]{which} "
        f"is at version {version}, changed after {fn.name}Backward saved it. Hint: an "
        "in-place change (add_, mul_, x[i] = v, an optimizer step, ...) ran between the "
        "forward that saved it and backward; clone() the tensor before changing it, or run "
        "backward first.")


def _raise_bad_grad(fn, shape, dtype, g):
    raise RuntimeError(
        f"{fn.name}.backward returned a gradient of shape {g.shape} and dtype {g.dtype} "
        f"for an input of shape {shape} and dtype {dtype}: "
        "a gradient must match its input exactly (this is a bug in that op's backward)"
    )


def _run_hooks(hooks, g, Tensor):
    for hook in list(hooks.values()):
        result = hook(Tensor._make(g, None))
        if result is not None:
            g = result._data if isinstance(result, Tensor) else np.asarray(result)
    return g


def _accumulate_leaf(t, g, owned, Tensor):
    """Add a complete gradient into leaf.grad, copying when the array may be shared."""
    if t._hooks:
        g = _run_hooks(t._hooks, g, Tensor)
    if t.grad is None:
        if g.base is not None or id(g) in owned or not g.flags.writeable:
            g = g.copy()
        owned.add(id(g))
        t.grad = Tensor._make(g, None)
    else:
        np.add(t.grad._data, g, out=t.grad._data)


def backward(root, gradient, retain_graph=False):
    """Accumulate d(root)/d(leaf), weighted by ``gradient``, into every leaf's ``.grad``."""
    Tensor = _tensor_cls()
    root_fn = root.grad_fn
    owned = set()
    if root_fn is None:  # a leaf: its gradient is the seed itself
        _accumulate_leaf(root, gradient, owned, Tensor)
        return
    node_deps, leaf_deps = _collect(root_fn)
    grads = {root_fn: gradient}
    leaf_grads = {}
    ready = [root_fn]
    while ready:
        fn = ready.pop()
        g = grads.pop(fn)
        if fn._output is not None:
            g = _output_hooks(fn, g, Tensor)
        stale = fn.recorded_at != CLOCK[0]
        if stale:
            check_unmodified(fn)
        in_grads = fn.backward(g)
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        for t, needed, gi in zip(fn.inputs, fn.needs_input_grad, in_grads):
            if gi is None or not needed:
                continue
            if type(gi) is not np.ndarray:
                gi = np.asarray(gi)
            if type(t) is Edge:  # a non-leaf input the node keeps no array of
                if gi.shape != t.shape or gi.dtype != t.dtype:
                    _raise_bad_grad(fn, t.shape, t.dtype, gi)
            elif gi.shape != t._data.shape or gi.dtype != t._data.dtype:
                _raise_bad_grad(fn, t._data.shape, t._data.dtype, gi)
            parent = parent_at(t, fn.recorded_at) if stale else t.grad_fn
            if parent is not None:
                prev = grads.get(parent)
                grads[parent] = gi if prev is None else _summed(prev, gi)
                left = node_deps[parent] - 1
                node_deps[parent] = left
                if left == 0:
                    ready.append(parent)
            else:
                key = id(t)
                prev = leaf_grads.get(key)
                leaf_grads[key] = gi if prev is None else prev + gi
                left = leaf_deps[key] - 1
                leaf_deps[key] = left
                if left == 0:
                    _accumulate_leaf(t, leaf_grads.pop(key), owned, Tensor)
        if not retain_graph:
            fn.__dict__.clear()  # free the arrays saved for backward


def _summed(a, b):
    """a + b, two contributions to one gradient (ops/arithmetic.sum_of: in a recycled buffer,
    in slices on the op threads)."""
    from gradkit.ops.arithmetic import sum_of  # here: importing gradkit.ops imports this module

    return sum_of(a, b)


def _output_hooks(fn, g, Tensor):
    """Hooks and retain_grad of a non-leaf tensor, run when its gradient is complete."""
    t = fn._output()
    if t is None:  # the tensor is gone, its hooks are not (as in PyTorch, they still run)
        return _run_hooks(fn._output_hooks, g, Tensor) if fn._output_hooks else g
    if t._hooks:
        g = _run_hooks(t._hooks, g, Tensor)
    if t._retains_grad:
        if t.grad is None:
            t.grad = Tensor._make(g.copy(), None)
        else:
            np.add(t.grad._data, g, out=t.grad._data)
    return g


def watch_output(t):
    """Make the engine find tensor t (a non-leaf) when its gradient is ready."""
    if t.grad_fn._output is None:
        t.grad_fn._output = weakref.ref(t)
    t.grad_fn._output_hooks = t._hooks  # the same dict: later hooks and removals show

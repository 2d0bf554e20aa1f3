"""Version counters and in-place ops in the graph, against PyTorch.

Every case runs the same code in gradkit and in PyTorch: either both give the same gradients,
or both raise "modified by an inplace operation" at backward."""

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn, optim

MODIFIED = "modified by an inplace operation"


def run_both(fn):
    """fn(lib) -> list of tensors whose .grad to compare; or raises in both."""
    results = []
    for lib in (torch, gk):
        try:
            results.append(("ok", [None if t.grad is None else t.grad.numpy().copy()
                                   for t in fn(lib)]))
        except RuntimeError as e:
            results.append(("error", str(e)))
    return results


def assert_same(fn):
    (t_kind, t_val), (g_kind, g_val) = run_both(fn)
    assert t_kind == g_kind, f"torch: {t_kind} {t_val}; gradkit: {g_kind} {g_val}"
    if t_kind == "error":
        assert MODIFIED in t_val and MODIFIED in g_val, (t_val, g_val)
        return "error"
    for a, b in zip(t_val, g_val):
        if a is None or b is None:
            assert a is None and b is None
        else:
            np.testing.assert_allclose(b, a, rtol=1e-12)
    return "ok"


def leaf(lib, values):
    return lib.tensor(values, dtype=lib.float64, requires_grad=True)


def test_the_issue_case_saved_input_edited_after_forward():
    def case(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64)
        w = leaf(lib, [3.0, 4.0])
        y = (x * w).sum()
        x.add_(10)
        y.backward()
        return [w]
    assert assert_same(case) == "error"


def test_parameter_edited_under_no_grad_between_forward_and_backward():
    def case(lib):
        w = leaf(lib, [3.0, 4.0])
        y = (w * w).sum()
        with lib.no_grad():
            w.mul_(2)
        y.backward()
        return [w]
    assert assert_same(case) == "error"


def test_saved_output_of_exp_edited():
    def case(lib):
        a = leaf(lib, [1.0, 2.0])
        y = a.exp()
        with lib.no_grad():
            y.add_(1)
        y.sum().backward()
        return [a]
    assert assert_same(case) == "error"


def test_an_unsaved_input_may_be_edited_add_does_not_keep_it():
    def case(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64)
        w = leaf(lib, [3.0, 4.0])
        y = (x + w).sum()
        x.add_(10)
        y.backward()
        return [w]
    assert assert_same(case) == "ok"


def test_editing_a_view_is_an_edit_of_its_base():
    def case(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64)
        w = leaf(lib, [[1.0, 1.0], [1.0, 1.0]])
        y = (x * w).sum()
        x[0].add_(5)
        y.backward()
        return [w]
    assert assert_same(case) == "error"


@pytest.mark.parametrize("name, body", [
    ("c += c + 1", lambda lib, a, w: _iadd(a * 2)),
    ("mul_ by a leaf", lambda lib, a, w: (a * 1).mul_(w)),
    ("div_ by a leaf", lambda lib, a, w: (a + 3).div_(w)),
    ("sub_ alpha", lambda lib, a, w: (a * 1).sub_(w, alpha=2)),
    ("clamp_", lambda lib, a, w: (a * w).clamp_(-1.0, 5.0)),
    ("setitem", lambda lib, a, w: _setitem(a * 1, w)),
    ("copy_ from a leaf", lambda lib, a, w: (a * 1).copy_(w * 3)),
    ("fill_ then use", lambda lib, a, w: (a * w).fill_(2.0) * a),
    ("zero_", lambda lib, a, w: (a * w).zero_() + a),
    ("plain tensor takes a graph value", lambda lib, a, w: _plain_takes(lib, w)),
    ("earlier consumer keeps the old value", lambda lib, a, w: _earlier_consumer(a, w)),
    ("chain of in-place ops", lambda lib, a, w: (a * 1).add_(w).mul_(w).add_(1)),
])
def test_inplace_ops_in_the_graph_match_pytorch(name, body):
    def case(lib):
        a, w = leaf(lib, [1.0, -2.0, 3.0]), leaf(lib, [0.5, 2.0, -1.5])
        out = body(lib, a, w)
        (out * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
        return [a, w]
    assert assert_same(case) == "ok"


def _iadd(c):
    c += c + 1
    return c


def _setitem(c, w):
    c[1] = w[0] * 3
    return c


def _plain_takes(lib, w):
    x = lib.zeros(3, dtype=lib.float64)
    x.add_(w * w)
    return x


def _earlier_consumer(a, w):
    c = a * 2
    d = c + 0  # recorded before the in-place change: sees c's old value and node
    c.mul_(w)
    return d + c


def test_inplace_results_are_the_new_values_and_the_grad_fn_is_the_inplace_op():
    a = gk.tensor([1.0, 2.0], requires_grad=True)
    c = a * 2
    c += c + 1
    assert c.tolist() == [5.0, 9.0] and "Add" in repr(c.grad_fn) and not c.is_leaf


def test_inplace_on_a_leaf_that_requires_grad_gives_pytorchs_message():
    w = gk.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used "
                                           "in an in-place operation"):
        w.add_(1)


def test_inplace_on_a_view_in_the_graph_is_refused_not_silently_wrong():
    a = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = a * 1
    v = c[:2]
    with pytest.raises(RuntimeError, match="view"):
        c.add_(gk.tensor([1.0, 1.0, 1.0], requires_grad=True))
    assert v.tolist() == [1.0, 2.0]


def test_version_counts_inplace_changes_and_views_share_it():
    x = gk.zeros(2, 3)
    assert x._version == 0
    x.add_(1)
    x[0] = 5
    assert x._version == 2
    v = x.reshape(6)
    v.mul_(2)
    assert x._version == 3 and v._version == 3
    d = x.detach()
    d.zero_()
    assert x._version == 4 and x.tolist() == [[0.0] * 3] * 2


def test_an_optimizer_step_between_forward_and_backward_is_caught():
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    out = model(gk.randn(4, 3)).relu().sum()
    (model.weight * 1).sum().backward()
    opt.step()
    with pytest.raises(RuntimeError, match=MODIFIED):
        out.backward()


def test_training_loop_versions_do_not_get_in_the_way():
    gk.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = gk.randn(16, 3), gk.randint(0, 2, (16,))
    start = model[0].weight._version  # initializers change the weights in place too
    for _ in range(3):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert model[0].weight._version == start + 3

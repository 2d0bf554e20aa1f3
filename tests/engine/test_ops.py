"""Every op against PyTorch: forward values and every input's gradient, float64 and float32."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import gradkit as gk
from oracle import check

F64, F32 = np.float64, np.float32

# (id, shapes, torch_fn, gradkit_fn or None when the same code runs on both, input range)
ELEMENTWISE = [
    ("add", [(3, 4), (3, 4)], lambda a, b: a + b, None, (-2, 2)),
    ("sub", [(3, 4), (4,)], lambda a, b: a - b, None, (-2, 2)),
    ("mul", [(2, 1, 4), (3, 1)], lambda a, b: a * b, None, (-2, 2)),
    ("div", [(3, 4), (3, 1)], lambda a, b: a / b, None, (0.5, 2)),
    ("pow_tensor", [(3, 4), (3, 4)], lambda a, b: a ** b, None, (0.5, 2)),
    ("pow_scalar", [(3, 4)], lambda a: a ** 3, None, (-2, 2)),
    ("pow_frac", [(3, 4)], lambda a: a ** 0.5, None, (0.5, 2)),
    ("rpow", [(3, 4)], lambda a: 2.0 ** a, None, (-2, 2)),
    ("radd", [(3,)], lambda a: 1.5 + a, None, (-2, 2)),
    ("rsub", [(3,)], lambda a: 1.5 - a, None, (-2, 2)),
    ("rmul", [(3,)], lambda a: 2 * a, None, (-2, 2)),
    ("rdiv", [(3,)], lambda a: 2.0 / a, None, (0.5, 2)),
    ("neg", [(3, 4)], lambda a: -a, None, (-2, 2)),
    ("exp", [(3, 4)], lambda a: a.exp(), None, (-2, 2)),
    ("log", [(3, 4)], lambda a: a.log(), None, (0.1, 3)),
    ("sqrt", [(3, 4)], lambda a: a.sqrt(), None, (0.1, 3)),
    ("abs", [(3, 4)], lambda a: a.abs(), None, (-2, 2)),
    ("tanh", [(3, 4)], lambda a: a.tanh(), None, (-3, 3)),
    ("sigmoid", [(3, 4)], lambda a: a.sigmoid(), None, (-30, 30)),
    ("relu", [(3, 4)], lambda a: a.relu(), None, (-2, 2)),
    ("leaky_relu", [(3, 4)], lambda a: torch.nn.functional.leaky_relu(a, 0.1),
     lambda a: gk.leaky_relu(a, 0.1), (-2, 2)),
    ("elu", [(3, 4)], lambda a: torch.nn.functional.elu(a, 0.7), lambda a: gk.elu(a, 0.7),
     (-3, 3)),
    ("softplus", [(3, 4)], lambda a: torch.nn.functional.softplus(a, beta=2, threshold=3),
     lambda a: gk.softplus(a, beta=2, threshold=3), (-3, 3)),
    ("gelu", [(3, 4)], lambda a: torch.nn.functional.gelu(a), lambda a: gk.gelu(a), (-3, 3)),
    ("gelu_tanh", [(3, 4)], lambda a: torch.nn.functional.gelu(a, approximate="tanh"),
     lambda a: gk.gelu(a, approximate="tanh"), (-3, 3)),
    ("clamp", [(3, 4)], lambda a: a.clamp(-0.5, 1.0), None, (-2, 2)),
    ("clamp_min", [(3, 4)], lambda a: a.clamp(min=0.2), None, (-2, 2)),
    ("maximum", [(3, 4), (4,)], lambda a, b: torch.maximum(a, b), lambda a, b: gk.maximum(a, b),
     (-2, 2)),
    ("minimum", [(3, 1), (4,)], lambda a, b: torch.minimum(a, b), lambda a, b: gk.minimum(a, b),
     (-2, 2)),
    ("where", [(3, 4), (3, 4), (4,)], lambda c, a, b: torch.where(c > 0, a, b),
     lambda c, a, b: gk.where(c > 0, a, b), (-2, 2)),
    ("matmul_2d", [(3, 4), (4, 5)], lambda a, b: a @ b, None, (-2, 2)),
    ("matmul_vec_vec", [(4,), (4,)], lambda a, b: a @ b, None, (-2, 2)),
    ("matmul_mat_vec", [(3, 4), (4,)], lambda a, b: a @ b, None, (-2, 2)),
    ("matmul_vec_mat", [(4,), (4, 5)], lambda a, b: a @ b, None, (-2, 2)),
    ("matmul_batched", [(2, 3, 4), (2, 4, 5)], lambda a, b: a @ b, None, (-2, 2)),
    ("matmul_broadcast", [(2, 1, 3, 4), (3, 4, 2)], lambda a, b: a @ b, None, (-2, 2)),
    ("matmul_vec_batched", [(4,), (2, 4, 5)], lambda a, b: a @ b, None, (-2, 2)),
    ("matmul_batched_vec", [(2, 3, 4), (4,)], lambda a, b: a @ b, None, (-2, 2)),
]

REDUCTIONS = [
    ("sum_all", [(3, 4)], lambda a: a.sum(), None),
    ("sum_dim", [(3, 4, 5)], lambda a: a.sum(dim=1), None),
    ("sum_dims_keep", [(3, 4, 5)], lambda a: a.sum(dim=(0, -1), keepdim=True), None),
    ("mean_all", [(3, 4)], lambda a: a.mean(), None),
    ("mean_neg_dim", [(3, 4, 5)], lambda a: a.mean(dim=-2), None),
    ("var_all", [(3, 4)], lambda a: a.var(), None),
    ("var_dim", [(3, 4, 5)], lambda a: a.var(dim=1, keepdim=True), None),
    ("var_biased", [(3, 4)], lambda a: a.var(dim=0, unbiased=False), None),
    ("var_correction", [(5, 4)], lambda a: a.var(dim=0, correction=2), None),
    ("std_all", [(3, 4)], lambda a: a.std(), None),
    ("std_dim", [(3, 4, 5)], lambda a: a.std(dim=(0, 2)), None),
    ("max_all", [(3, 4)], lambda a: a.max(), None),
    ("min_all", [(3, 4)], lambda a: a.min(), None),
    ("max_dim", [(3, 4, 5)], lambda a: a.max(dim=1).values, None),
    ("max_dim_keep", [(3, 4, 5)], lambda a: a.max(dim=-1, keepdim=True)[0], None),
    ("min_dim", [(3, 4)], lambda a: a.min(dim=0).values, None),
    ("logsumexp", [(3, 4, 5)], lambda a: a.logsumexp(dim=1), None),
    ("logsumexp_keep", [(3, 4)], lambda a: a.logsumexp(dim=(0, 1), keepdim=True), None),
    ("softmax", [(3, 4, 5)], lambda a: a.softmax(dim=1), None),
    ("softmax_last", [(3, 5)], lambda a: a.softmax(dim=-1), None),
    ("log_softmax", [(3, 4, 5)], lambda a: a.log_softmax(dim=2), None),
    ("log_softmax_first", [(3, 5)], lambda a: a.log_softmax(dim=0), None),
]

SHAPES = [
    ("reshape", [(3, 4)], lambda a: a.reshape(2, 6), None),
    ("reshape_tuple_infer", [(3, 4)], lambda a: a.reshape((4, -1)), None),
    ("view", [(3, 4)], lambda a: a.view(12), None),
    ("flatten", [(2, 3, 4)], lambda a: a.flatten(), None),
    ("flatten_from_1", [(2, 3, 4, 5)], lambda a: a.flatten(1), None),
    ("flatten_mid", [(2, 3, 4, 5)], lambda a: a.flatten(1, 2), None),
    ("transpose", [(2, 3, 4)], lambda a: a.transpose(0, 2), None),
    ("transpose_neg", [(2, 3, 4)], lambda a: a.transpose(-1, -2), None),
    ("T", [(3, 4)], lambda a: a.T, None),
    ("permute", [(2, 3, 4)], lambda a: a.permute(2, 0, 1), None),
    ("permute_tuple", [(2, 3, 4)], lambda a: a.permute((1, 2, 0)), None),
    ("squeeze_all", [(1, 3, 1, 4)], lambda a: a.squeeze(), None),
    ("squeeze_dim", [(1, 3, 1, 4)], lambda a: a.squeeze(2), None),
    ("squeeze_noop", [(2, 3)], lambda a: a.squeeze(0), None),
    ("unsqueeze", [(3, 4)], lambda a: a.unsqueeze(1), None),
    ("unsqueeze_neg", [(3, 4)], lambda a: a.unsqueeze(-1), None),
    ("expand", [(3, 1)], lambda a: a.expand(2, 3, 4), None),
    ("expand_keep", [(3, 1)], lambda a: a.expand(-1, 5), None),
    ("cat", [(2, 3), (4, 3)], lambda a, b: torch.cat([a, b]), lambda a, b: gk.cat([a, b])),
    ("cat_dim1", [(2, 3), (2, 1), (2, 2)], lambda a, b, c: torch.cat([a, b, c], dim=1),
     lambda a, b, c: gk.cat([a, b, c], dim=1)),
    ("stack", [(2, 3), (2, 3)], lambda a, b: torch.stack([a, b], dim=1),
     lambda a, b: gk.stack([a, b], dim=1)),
    ("stack_last", [(2, 3), (2, 3)], lambda a, b: torch.stack([a, b], dim=-1),
     lambda a, b: gk.stack([a, b], dim=-1)),
    ("split", [(5, 3)], lambda a: a.split(2)[2], None),
    ("split_sections", [(5, 3)], lambda a: a.split([1, 2], dim=1)[1], None),
    ("chunk", [(7, 3)], lambda a: a.chunk(3)[1], None),
    ("pad_constant", [(2, 3, 4)], lambda a: torch.nn.functional.pad(a, (1, 2, 0, 1), value=0.5),
     lambda a: gk.pad(a, (1, 2, 0, 1), value=0.5)),
    ("pad_reflect", [(2, 3, 4)], lambda a: torch.nn.functional.pad(a, (2, 1), mode="reflect"),
     lambda a: gk.pad(a, (2, 1), mode="reflect")),
    ("pad_replicate", [(1, 2, 3, 4)],
     lambda a: torch.nn.functional.pad(a, (2, 3, 1, 0), mode="replicate"),
     lambda a: gk.pad(a, (2, 3, 1, 0), mode="replicate")),
    ("pad_circular", [(1, 2, 3, 4)],
     lambda a: torch.nn.functional.pad(a, (1, 2, 2, 1), mode="circular"),
     lambda a: gk.pad(a, (1, 2, 2, 1), mode="circular")),
]

INDEXING = [
    ("int", [(4, 5)], lambda a: a[2], None),
    ("neg_int", [(4, 5)], lambda a: a[-1, 1:], None),
    ("slice_step", [(6, 5)], lambda a: a[1::2, 1:4], None),
    ("ellipsis_none", [(2, 3, 4)], lambda a: a[..., None, 1], None),
    ("int_array_repeats", [(4, 5)], lambda a: a[[0, 2, 0, 0]], None),
    ("two_int_arrays", [(4, 5)], lambda a: a[[0, 1, 1], [2, 2, 4]], None),
    ("int_array_and_slice", [(4, 5, 3)], lambda a: a[1:3, [0, 0, 4]], None),
    ("bool_mask", [(4, 5)], lambda a: a[a > 0], None),
    ("tensor_index", [(4, 5)], lambda a: a[torch.tensor([3, 1, 3])],
     lambda a: a[gk.tensor([3, 1, 3])]),
    ("bool_rows", [(4, 5)], lambda a: a[torch.tensor([True, False, True, True])],
     lambda a: a[gk.tensor([True, False, True, True])]),
]


def _params(table):
    return [pytest.param(*row[1:], id=row[0]) for row in table]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("shapes, torch_fn, gk_fn, bounds", _params(ELEMENTWISE))
def test_elementwise(shapes, torch_fn, gk_fn, bounds, dtype):
    check(shapes, torch_fn, gk_fn, dtype=dtype, low=bounds[0], high=bounds[1])


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("shapes, torch_fn, gk_fn", _params(REDUCTIONS + SHAPES + INDEXING))
def test_reductions_shapes_indexing(shapes, torch_fn, gk_fn, dtype):
    check(shapes, torch_fn, gk_fn, dtype=dtype)


BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b,
}


@settings(max_examples=30, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=0,
                                            max_side=3),
       op=st.sampled_from(sorted(BINARY)))
def test_broadcasting_binary_ops(shapes, op):
    check(list(shapes.input_shapes), BINARY[op], low=0.5, high=2.0)


@settings(max_examples=15, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, max_side=3))
def test_broadcasting_maximum_and_where(shapes):
    check(list(shapes.input_shapes), lambda a, b: torch.maximum(a, b) * torch.where(a > b, a, b),
          lambda a, b: gk.maximum(a, b) * gk.where(a > b, a, b))


def test_maximum_ties_share_the_gradient():
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.0, 0.0, 3.0])
    check([], lambda x, y: torch.maximum(x, y), lambda x, y: gk.maximum(x, y), arrays=[a, b])
    check([], lambda x, y: torch.minimum(x, y), lambda x, y: gk.minimum(x, y), arrays=[a, b])


def test_max_all_with_ties_shares_evenly_like_torch():
    a = np.array([[3.0, 1.0], [3.0, 2.0]])
    check([], lambda x: x.max(), arrays=[a])
    check([], lambda x: x.min(), arrays=[-a])


def test_relu_and_abs_at_zero_match_torch():
    a = np.array([-1.0, 0.0, 2.0])
    for fn in (lambda x: x.relu(), lambda x: x.abs(), lambda x: x.clamp(0.0, 2.0)):
        check([], fn, arrays=[a])


def test_edge_cases_empty_size_one_and_non_contiguous():
    check([(0, 3), (3,)], lambda a, b: (a * b).sum(0))
    check([(1, 1), (1,)], lambda a, b: a @ b)
    base = np.random.default_rng(1).standard_normal((4, 6))
    check([], lambda a: (a.T.exp() * 2).sum(1), arrays=[base[:, ::2]])
    check([], lambda a: a.flip(0)[1:].sum(0), lambda a: a[gk.arange(2, -1, -1)].sum(0),
          arrays=[base])


def test_node_reused_many_times_accumulates():
    def fn(a):
        y = a * 1.0
        total = y
        for _ in range(50):
            total = total + y * y
        return total
    check([(3,)], fn)


def test_reductions_with_axis_aliases():
    x = gk.tensor(np.arange(12.0).reshape(3, 4))
    assert x.sum(axis=1, keepdims=True).shape == (3, 1)
    assert x.mean(axis=0).tolist() == [4.0, 5.0, 6.0, 7.0]
    values, indices = x.max(dim=1)
    assert values.tolist() == [3.0, 7.0, 11.0] and indices.tolist() == [3, 3, 3]
    assert x.max(dim=1).indices.dtype == np.int64


def test_argmax_argmin_match_torch():
    a = np.random.default_rng(0).standard_normal((3, 4, 5))
    t, g = torch.tensor(a), gk.tensor(a)
    assert g.argmax().item() == t.argmax().item()
    np.testing.assert_array_equal(g.argmax(dim=1).numpy(), t.argmax(dim=1).numpy())
    np.testing.assert_array_equal(g.argmin(dim=-1, keepdim=True).numpy(),
                                  t.argmin(dim=-1, keepdim=True).numpy())


def test_split_and_chunk_pieces_match_torch():
    a = np.arange(14.0).reshape(7, 2)
    for gk_parts, t_parts in [(gk.tensor(a).chunk(3), torch.tensor(a).chunk(3)),
                              (gk.tensor(a).split(3), torch.tensor(a).split(3)),
                              (gk.tensor(a).chunk(4, dim=1), torch.tensor(a).chunk(4, dim=1))]:
        assert [p.shape for p in gk_parts] == [tuple(p.shape) for p in t_parts]


def test_one_hot_matches_torch():
    y = np.array([[0, 2], [1, 3]])
    expected = torch.nn.functional.one_hot(torch.tensor(y), 5).numpy()
    got = gk.one_hot(gk.tensor(y), 5)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got.numpy(), expected)
    assert gk.one_hot(gk.tensor([0, 3])).shape == (2, 4)
    with pytest.raises(ValueError, match="label 7"):
        gk.one_hot(gk.tensor([1, 7]), 5)


def test_comparisons_are_not_differentiable():
    a = gk.randn(3, requires_grad=True)
    for result in (a < 0, a <= 0, a > 0, a >= 0, a == a, a != 0):
        assert result.dtype == np.bool_ and not result.requires_grad and result.grad_fn is None
    np.testing.assert_array_equal((a > 0).numpy(), a.numpy() > 0)


def test_integer_division_and_promotion_follow_torch():
    i = gk.tensor([1, 2, 3])
    assert (i / 2).dtype == np.float32 and (i / 2).tolist() == [0.5, 1.0, 1.5]
    assert (i * 2.5).dtype == np.float32
    assert (i + 1).dtype == np.int64
    assert (i + gk.ones(3)).dtype == np.float32
    assert i.sum().dtype == np.int64 and i.float().mean().item() == 2.0

"""prod, amax/amin/aminmax, std_mean/var_mean, count_nonzero, any/all, nansum/nanmean, and
sum/mean with dtype=, against PyTorch."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from oracle import check

import gradkit as gk
from gradkit.autograd.check import gradcheck

DTYPES = [np.float64, np.float32]


def torch_dtype_name(t):
    return str(t.dtype).replace("torch.", "")


def same_array(g, t):
    assert g.dtype == np.dtype(torch_dtype_name(t)), f"{g.dtype} != {t.dtype}"
    assert g.shape == tuple(t.shape)
    np.testing.assert_array_equal(g.numpy(), t.numpy())


# ----- prod -----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args", [(), (0,), (1,), (-1,), (1, True), (-2, True)])
def test_prod_matches_pytorch(args, dtype):
    check([(3, 4)], lambda a: torch.prod(a, *args), lambda a: gk.prod(a, *args), dtype=dtype,
          low=0.5, high=1.5)
    check([(3, 4)], lambda a: a.T.prod(*args), dtype=dtype)


@pytest.mark.parametrize("row", [[2.0, 0.0, 3.0, 4.0], [0.0, 0.0, 1.5, 2.0],
                                 [1.5, -2.0, 3.0, 0.5], [0.0, 2.0, 0.0, 0.0]])
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_prod_gradient_with_one_and_two_zeros(row, dim):
    a = np.array([row, row[::-1], [1.0, 2.0, -1.0, 0.5]])
    args = () if dim is None else (dim,)
    check(None, lambda x: torch.prod(x, *args), lambda x: gk.prod(x, *args), arrays=[a])
    check(None, lambda x: torch.prod(x, *args), lambda x: gk.prod(x, *args),
          arrays=[a.astype(np.float32)], dtype=np.float32)
    assert gradcheck(lambda x: gk.prod(x, *args), (gk.tensor(a, requires_grad=True),))


@pytest.mark.parametrize("shape,dim", [((0, 3), 0), ((0, 3), 1), ((1, 3), 0), ((), 0), ((), None)])
def test_prod_of_empty_and_size_one_dims(shape, dim):
    args = () if dim is None else (dim,)
    check([shape], lambda a: torch.prod(a, *args), lambda a: gk.prod(a, *args))


@pytest.mark.parametrize("in_dtype,out_dtype", [("int32", None), ("bool", None),
                                                ("uint8", None), ("int32", "float64"),
                                                ("float32", "float64")])
def test_prod_dtypes(in_dtype, out_dtype):
    a = np.array([[1, 2, 3], [2, 1, 0]]).astype(in_dtype)
    kw_t = {} if out_dtype is None else {"dtype": getattr(torch, out_dtype)}
    kw_g = {} if out_dtype is None else {"dtype": getattr(gk, out_dtype)}
    same_array(gk.prod(gk.tensor(a), **kw_g), torch.prod(torch.tensor(a), **kw_t))
    same_array(gk.prod(gk.tensor(a), 1, **kw_g), torch.prod(torch.tensor(a), 1, **kw_t))


def test_prod_takes_one_int_dim_as_pytorch():
    with pytest.raises(TypeError):
        torch.prod(torch.ones(2, 3), (0, 1))
    with pytest.raises(TypeError, match="prod"):
        gk.prod(gk.ones(2, 3), (0, 1))
    with pytest.raises(IndexError, match="prod"):
        gk.prod(gk.ones(2, 3), 2)


# ----- amax, amin, aminmax -----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize("dim,keepdim", [((), False), (0, False), (-1, True), ((0, 2), False),
                                         ((-1, 0), True), ((0, 1, 2), False), (None, False)])
def test_amax_amin_match_pytorch(name, dim, keepdim, dtype):
    t_dim = () if dim is None else dim
    check([(2, 3, 4)], lambda a: getattr(torch, name)(a, t_dim, keepdim),
          lambda a: getattr(gk, name)(a, dim, keepdim), dtype=dtype)
    if dim == ():
        check([(2, 3)], lambda a: getattr(torch, name)(a, [], keepdim),
              lambda a: getattr(gk, name)(a, [], keepdim), dtype=dtype)


@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize("dim", [(), 0, 1, (0, 1)])
def test_amax_amin_split_the_gradient_evenly_among_ties(name, dim):
    a = np.array([[1.0, 3.0, 3.0], [3.0, -1.0, 3.0], [-1.0, -1.0, 0.0]])
    check(None, lambda x: getattr(torch, name)(x, dim), lambda x: getattr(gk, name)(x, dim),
          arrays=[a])
    check(None, lambda x: getattr(torch, name)(x, dim), lambda x: getattr(gk, name)(x, dim),
          arrays=[a.astype(np.float32)], dtype=np.float32)


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin_with_nan(name):
    a = np.array([[1.0, np.nan, 3.0], [2.0, 5.0, -1.0]])
    for dim in [0, 1, ()]:
        check(None, lambda x: getattr(torch, name)(x, dim), lambda x: getattr(gk, name)(x, dim),
              arrays=[a])


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin_gradcheck_transposed_and_integers(name):
    x = gk.tensor(np.random.default_rng(2).standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(lambda t: getattr(gk, name)(t, (0, 1)), (x,))
    assert gradcheck(lambda t: getattr(gk, name)(t.T, 1), (x,))
    a = np.array([[3, 1, 4], [1, 5, 9]], np.int32)
    same_array(getattr(gk, name)(gk.tensor(a), 1), getattr(torch, name)(torch.tensor(a), 1))
    same_array(getattr(gk.tensor(a), name)(), getattr(torch.tensor(a), name)())


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin_of_an_empty_dim(name):
    check([(0, 3)], lambda a: getattr(torch, name)(a, 1), lambda a: getattr(gk, name)(a, 1))
    with pytest.raises(IndexError):
        getattr(torch, name)(torch.ones(0, 3), 0)
    with pytest.raises(IndexError, match=name):
        getattr(gk, name)(gk.ones(0, 3), 0)
    with pytest.raises(IndexError, match=name):
        getattr(gk, name)(gk.ones(2, 3), 2)


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False)])
def test_aminmax_matches_pytorch(dim, keepdim):
    a = np.random.default_rng(4).standard_normal((3, 4))
    t_out = torch.aminmax(torch.tensor(a), dim=dim, keepdim=keepdim)
    g_out = gk.aminmax(gk.tensor(a), dim=dim, keepdim=keepdim)
    same_array(g_out.min, t_out.min)
    same_array(g_out.max, t_out.max)
    lo, hi = gk.tensor(a).aminmax(dim=dim, keepdim=keepdim)
    same_array(lo, t_out.min)
    same_array(hi, t_out.max)
    check([(3, 4)], lambda x: torch.aminmax(x, dim=dim, keepdim=keepdim)[1],
          lambda x: gk.aminmax(x, dim=dim, keepdim=keepdim)[1])


# ----- var_mean, std_mean -----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["var_mean", "std_mean"])
@pytest.mark.parametrize("args,kwargs", [((), {}), ((1,), {}), (((0, 1),), {"keepdim": True}),
                                         ((1,), {"correction": 0}), ((-1, False), {}),
                                         ((None,), {"correction": 2}), ((0, True, True), {})])
def test_var_mean_std_mean_match_pytorch(name, args, kwargs, dtype):
    for part in (0, 1):
        check([(3, 4)], lambda a: getattr(torch, name)(a, *args, **kwargs)[part],
              lambda a: getattr(gk, name)(a, *args, **kwargs)[part], dtype=dtype)
    out = getattr(gk, name)(gk.ones(3, 4), *args, **kwargs)
    assert isinstance(out, tuple) and len(out) == 2


def test_var_mean_gradient_through_both_outputs():
    def run(lib, x):
        v, m = lib.var_mean(x, 1)
        return v * 2.0 + m * m
    check([(3, 4)], lambda a: run(torch, a), lambda a: run(gk, a))


@pytest.mark.parametrize("name", ["var_mean", "std_mean"])
def test_var_mean_std_mean_gradcheck_and_empty_dims(name):
    x = gk.tensor(np.random.default_rng(6).standard_normal((3, 4)), requires_grad=True)
    for part in (0, 1):
        assert gradcheck(lambda t: getattr(gk, name)(t.T, -1)[part], (x,))
        check([(0, 3)], lambda a: getattr(torch, name)(a, 0)[part],
              lambda a: getattr(gk, name)(a, 0)[part])
        check([(3, 1)], lambda a: getattr(torch, name)(a, 1, correction=0)[part],
              lambda a: getattr(gk, name)(a, 1, correction=0)[part])


# ----- count_nonzero, any, all -----

@pytest.mark.parametrize("dim", [None, 0, -1, (0, 1), (1, 0)])
def test_count_nonzero_matches_pytorch(dim):
    a = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, -3.0]])
    same_array(gk.count_nonzero(gk.tensor(a), dim), torch.count_nonzero(torch.tensor(a), dim))
    same_array(gk.tensor(a.astype(np.int32)).count_nonzero(dim),
               torch.tensor(a.astype(np.int32)).count_nonzero(dim))


@pytest.mark.parametrize("name", ["any", "all"])
@pytest.mark.parametrize("dtype", ["bool", "float32", "int64", "uint8"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (-1, True), ((0, 1), False),
                                         ((1, 0), True), ((), False)])
def test_any_all_match_pytorch(name, dtype, dim, keepdim):
    a = np.array([[0, 1, 2], [0, 0, 0], [1, 1, 1]]).astype(dtype)
    t_kw = {} if dim is None else {"dim": dim}
    if keepdim:
        t_kw["keepdim"] = True
    t_out = getattr(torch, name)(torch.tensor(a), **t_kw)
    same_array(getattr(gk, name)(gk.tensor(a), dim, keepdim), t_out)
    same_array(getattr(gk.tensor(a), name)(dim=dim, keepdim=keepdim), t_out)


@pytest.mark.parametrize("name", ["any", "all"])
def test_any_all_of_empty_and_zero_dim_tensors(name):
    for shape, dim in [((0, 3), 0), ((0, 3), 1), ((0,), None), ((), None), ((), 0)]:
        t_kw = {} if dim is None else {"dim": dim}
        same_array(getattr(gk, name)(gk.zeros(shape), dim),
                   getattr(torch, name)(torch.zeros(shape), **t_kw))
    with pytest.raises(IndexError, match=name):
        getattr(gk, name)(gk.zeros(2, 3), 2)


# ----- sum and mean with dtype, nansum, nanmean -----

@pytest.mark.parametrize("in_dtype,out_dtype", [("int32", None), ("uint8", None), ("bool", None),
                                                ("int32", "int32"), ("int32", "float64"),
                                                ("float32", "float64"), ("float64", "float32")])
def test_sum_dtype(in_dtype, out_dtype):
    a = np.array([[1, 2, 0], [3, 1, 1]]).astype(in_dtype)
    kw_t = {} if out_dtype is None else {"dtype": getattr(torch, out_dtype)}
    kw_g = {} if out_dtype is None else {"dtype": getattr(gk, out_dtype)}
    same_array(gk.sum(gk.tensor(a), **kw_g), torch.sum(torch.tensor(a), **kw_t))
    same_array(gk.tensor(a).sum(1, **kw_g), torch.tensor(a).sum(1, **kw_t))


@pytest.mark.parametrize("name", ["sum", "mean", "nansum", "nanmean"])
def test_reduction_with_dtype_gradient_comes_back_in_the_input_dtype(name):
    x32 = np.random.default_rng(5).standard_normal((3, 4)).astype(np.float32)
    check(None, lambda a: getattr(torch, name)(a, 1, dtype=torch.float64).float(),
          lambda a: getattr(gk, name)(a, 1, dtype=gk.float64).float(),
          arrays=[x32], dtype=np.float32)
    x = gk.tensor(x32, requires_grad=True)
    getattr(gk, name)(x, dtype=gk.float64).backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("name", ["prod", "nansum", "nanmean"])
def test_methods_and_dtype_gradients(name):
    a = np.random.default_rng(11).uniform(0.5, 1.5, (3, 4)).astype(np.float32)
    check(None, lambda x: getattr(x, name)(1, dtype=torch.float64).float(),
          lambda x: getattr(x, name)(1, dtype=gk.float64).float(), arrays=[a], dtype=np.float32)


def test_count_nonzero_bad_dim_raises_as_pytorch():
    with pytest.raises(IndexError):
        torch.count_nonzero(torch.ones(2, 3), 2)
    with pytest.raises(IndexError, match="count_nonzero"):
        gk.count_nonzero(gk.ones(2, 3), 2)


def test_mean_of_an_integer_tensor_raises_as_pytorch():
    with pytest.raises(RuntimeError):
        torch.mean(torch.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="mean.*floating"):
        gk.mean(gk.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="mean.*floating"):
        gk.tensor([1.0, 2.0]).mean(dtype=gk.int64)
    same_array(gk.mean(gk.tensor([1, 2]), dtype=gk.float64),
               torch.mean(torch.tensor([1, 2]), dtype=torch.float64))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["nansum", "nanmean"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), ((0, 1), False)])
def test_nansum_nanmean_match_pytorch(name, dim, keepdim, dtype):
    a = np.array([[1.0, np.nan, 2.0], [np.nan, np.nan, np.nan], [3.0, -1.0, 0.5]], dtype)
    check(None, lambda x: getattr(torch, name)(x, dim, keepdim),
          lambda x: getattr(gk, name)(x, dim, keepdim), arrays=[a], dtype=dtype)
    check(None, lambda x: getattr(torch, name)(x.T, dim, keepdim),
          lambda x: getattr(gk, name)(x.T, dim, keepdim), arrays=[a], dtype=dtype)


def test_nansum_of_integers_and_gradcheck():
    same_array(gk.nansum(gk.tensor([[1, 2], [3, 4]], dtype=gk.int32), 0),
               torch.nansum(torch.tensor([[1, 2], [3, 4]], dtype=torch.int32), 0))
    a = np.array([[1.0, np.nan, 2.0], [0.5, -1.0, 3.0]])
    assert gradcheck(lambda t: gk.nanmean(t, 1), (gk.tensor(a, requires_grad=True),))
    assert gradcheck(lambda t: gk.nansum(t, 0), (gk.tensor(a, requires_grad=True),))


# ----- drawn shapes -----

@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_reductions_on_drawn_shapes(shape, data):
    ndim = len(shape)
    dims = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                              unique_by=lambda d: d % ndim))
    keepdim = data.draw(st.booleans())
    name = data.draw(st.sampled_from(["amax", "amin", "nansum", "var_mean"]))
    check([tuple(shape)], lambda a: getattr(torch, name)(a, tuple(dims), keepdim=keepdim)[0]
          if name == "var_mean" else getattr(torch, name)(a, tuple(dims), keepdim=keepdim),
          lambda a: getattr(gk, name)(a, tuple(dims), keepdim=keepdim)[0]
          if name == "var_mean" else getattr(gk, name)(a, tuple(dims), keepdim=keepdim))
    check([tuple(shape)], lambda a: torch.prod(a, dims[0], keepdim),
          lambda a: gk.prod(a, dims[0], keepdim), low=0.5, high=1.5)


def test_softmax_over_an_empty_dim_is_empty_as_in_pytorch():
    for fn in (gk.softmax, gk.log_softmax):
        out = fn(gk.zeros(3, 0), 1)
        assert out.shape == (3, 0) and out.dtype == np.float32
    t = torch.softmax(torch.zeros(3, 0), 1)
    assert tuple(t.shape) == (3, 0)

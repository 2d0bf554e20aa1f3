"""ops/dtype_rules.py against PyTorch: promotion, result_type, can_cast, as_tensor/asarray."""

import itertools

import numpy as np
import pytest
import torch

import gradkit as gk

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def _torch(name):
    return getattr(torch, name)


@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
def test_promote_types_and_can_cast(a, b):
    expected = str(torch.promote_types(_torch(a), _torch(b))).replace("torch.", "")
    assert gk.promote_types(np.dtype(a), np.dtype(b)) == np.dtype(expected)
    assert gk.can_cast(np.dtype(a), np.dtype(b)) == torch.can_cast(_torch(a), _torch(b))


OPERANDS = [("t", "int64", 1), ("t", "float32", 1), ("t", "float64", 0), ("t", "uint8", 1),
            ("t", "int8", 0), ("t", "bool", 1), ("t", "float16", 1), ("n", True, None),
            ("n", 3, None), ("n", 2.5, None)]


def _make(lib, op):
    kind, value, ndim = op
    if kind == "n":
        return value
    dtype = getattr(lib, value) if lib is torch else np.dtype(value)
    return lib.ones(tuple([2] * ndim), dtype=dtype)


@pytest.mark.parametrize("a,b", [(a, b) for a, b in itertools.product(OPERANDS, OPERANDS)
                                 if "t" in (a[0], b[0])])
def test_result_type(a, b):
    expected = str(torch.result_type(_make(torch, a), _make(torch, b))).replace("torch.", "")
    assert gk.result_type(_make(gk, a), _make(gk, b)) == np.dtype(expected)


def test_result_type_of_numbers():
    assert gk.result_type(2, 3.0) == np.float32 == np.dtype(str(torch.result_type(2, 3.0))[6:])
    with pytest.raises(TypeError):
        gk.result_type(gk.ones(1), "a")


def test_as_tensor_and_asarray_share_memory_as_torch():
    a = np.arange(3.0)
    t = gk.as_tensor(a)
    assert t.numpy() is a or np.shares_memory(t.numpy(), a)
    assert t.dtype == np.float64
    assert not np.shares_memory(gk.as_tensor(a, dtype=gk.float32).numpy(), a)
    x = gk.ones(2)
    assert gk.as_tensor(x) is x
    assert gk.as_tensor([1, 2]).dtype == np.int64
    assert np.shares_memory(gk.asarray(a).numpy(), a)
    assert not np.shares_memory(gk.asarray(a, copy=True).numpy(), a)
    with pytest.raises(ValueError):
        gk.asarray([1.0, 2.0], copy=False)
    with pytest.raises(ValueError):
        torch.asarray([1.0, 2.0], copy=False)
    r = gk.asarray(a, requires_grad=True)
    assert r.requires_grad and r.is_leaf


def test_scalar_tensor_fill_is_neg():
    for s, kw in ((3, {}), (2.5, {"dtype": torch.float64}), (True, {})):
        t = torch.scalar_tensor(s, **kw)
        g = gk.scalar_tensor(s, **{k: np.float64 for k in kw})
        assert g.shape == () and g.dtype == np.dtype(str(t.dtype)[6:]) and g.item() == t.item()
    for value in (3, 1.5, torch.tensor(2.0)):
        t = torch.fill(torch.zeros(2, 3, dtype=torch.int64), value)
        g = gk.fill(gk.zeros(2, 3, dtype=gk.int64),
                    gk.tensor(2.0) if isinstance(value, torch.Tensor) else value)
        np.testing.assert_array_equal(g.numpy(), t.numpy())
        assert g.dtype == np.int64
    assert gk.is_neg(gk.ones(1)) is False and gk.ones(1).is_neg() is False
    assert gk.ones(2, 3).dim_order() == torch.ones(2, 3).dim_order()


def test_frombuffer_and_empty_variants():
    buf = bytearray(np.arange(4, dtype=np.int32).tobytes())
    t = torch.frombuffer(buf, dtype=torch.int32, count=3, offset=4)
    g = gk.frombuffer(buf, dtype=gk.int32, count=3, offset=4)
    np.testing.assert_array_equal(g.numpy(), t.numpy())
    buf[4] = 9
    assert g.tolist()[0] == 9
    for make in ("empty_strided",):
        t = getattr(torch, make)((2, 3), (1, 2), dtype=torch.float64)
        g = getattr(gk, make)((2, 3), (1, 2), dtype=gk.float64)
        assert g.shape == tuple(t.shape) and g.dtype == np.float64
    t, g = torch.empty_permuted((2, 3, 4), (0, 2, 1)), gk.empty_permuted((2, 3, 4), (0, 2, 1))
    assert g.shape == tuple(t.shape) and g.dtype == np.float32
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.empty_strided((2, 3), (1,))
        with pytest.raises(RuntimeError):
            lib.empty_permuted((2, 3), (0, 0))

"""F.unfold / F.fold and nn.Unfold / nn.Fold against PyTorch: values and gradients (each is
the other's gradient) in float64 and float32, gradcheck, kernel / dilation / padding / stride
pairs, unbatched and empty batches, transposed input, bad arguments."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
import gradkit.nn.functional as F
from gradkit.autograd.check import gradcheck
from oracle import check
from nn.torch_ref import random_array, run_pair

F64, F32 = np.float64, np.float32

# (id, input shape (N, C, H, W), options)
UNFOLD = [
    ("k2", (2, 3, 5, 5), dict(kernel_size=2)),
    ("k3_p1", (2, 2, 5, 6), dict(kernel_size=3, padding=1)),
    ("k3_s2", (1, 2, 7, 6), dict(kernel_size=3, stride=2)),
    ("pairs", (2, 2, 6, 7), dict(kernel_size=(2, 3), dilation=(2, 1), padding=(1, 0),
                                 stride=(1, 2))),
    ("gaps", (1, 1, 9, 9), dict(kernel_size=2, stride=3)),
    ("whole", (2, 3, 4, 3), dict(kernel_size=(4, 3))),
    ("k1", (2, 3, 1, 4), dict(kernel_size=1)),
    ("unbatched", (3, 5, 4), dict(kernel_size=2, padding=1)),
    ("empty_batch", (0, 3, 5, 5), dict(kernel_size=2)),
]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,shape,options", UNFOLD, ids=[c[0] for c in UNFOLD])
def test_unfold_matches_torch(name, shape, options, dtype):
    check([shape], lambda x: TF.unfold(x, **options), lambda x: F.unfold(x, **options),
          dtype=dtype)


def _fold_input(shape, options):
    """The (N, C·∏k, L) columns that fold back into an image of ``shape``."""
    cols = TF.unfold(torch.zeros(shape if len(shape) == 4 else (1,) + shape), **options)
    return cols.shape[1:] if len(shape) == 3 else cols.shape


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,shape,options", UNFOLD, ids=[c[0] for c in UNFOLD])
def test_fold_matches_torch(name, shape, options, dtype):
    size = shape[-2:]
    check([_fold_input(shape, options)], lambda c: TF.fold(c, size, **options),
          lambda c: F.fold(c, size, **options), dtype=dtype)


@pytest.mark.parametrize("name,shape,options", UNFOLD[:-1], ids=[c[0] for c in UNFOLD[:-1]])
def test_gradcheck(name, shape, options):
    x = gk.tensor(random_array(shape), requires_grad=True)
    assert gradcheck(lambda x: F.unfold(x, **options), (x,))
    c = gk.tensor(random_array(tuple(_fold_input(shape, options))), requires_grad=True)
    assert gradcheck(lambda c: F.fold(c, shape[-2:], **options), (c,))


def test_transposed_input_and_round_trip():
    check([(2, 3, 6, 5)], lambda x: TF.fold(TF.unfold(x.transpose(2, 3), 3, padding=1),
                                            (5, 6), 3, padding=1),
          lambda x: F.fold(F.unfold(x.transpose(2, 3), 3, padding=1), (5, 6), 3, padding=1))


def test_layers_match_torch():
    x = random_array((2, 3, 6, 6))
    cols = run_pair(gk.nn.Unfold(3, dilation=1, padding=1, stride=2),
                    torch.nn.Unfold(3, dilation=1, padding=1, stride=2), x)
    run_pair(gk.nn.Fold(6, 3, padding=1, stride=2), torch.nn.Fold(6, 3, padding=1, stride=2),
             cols.numpy(), dtype=F32)
    assert repr(gk.nn.Unfold(2)) == repr(torch.nn.Unfold(2))
    assert repr(gk.nn.Fold(4, 2)) == repr(torch.nn.Fold(4, 2))


def test_integer_input():
    x = np.arange(2 * 2 * 4 * 4).reshape(2, 2, 4, 4)
    np.testing.assert_array_equal(F.unfold(gk.tensor(x), 2).numpy(),
                                  TF.unfold(torch.tensor(x, dtype=torch.float64), 2).numpy())


BAD = [
    (lambda m: m.unfold(m_zeros(m, 1, 3, 5, 5), 6), RuntimeError),
    (lambda m: m.unfold(m_zeros(m, 1, 3, 5, 5), 0), RuntimeError),
    (lambda m: m.unfold(m_zeros(m, 1, 3, 5, 5), 2, stride=0), RuntimeError),
    (lambda m: m.unfold(m_zeros(m, 1, 3, 5, 5), 2, padding=-1), RuntimeError),
    (lambda m: m.unfold(m_zeros(m, 1, 3, 5, 5, 5), 2), RuntimeError),
    (lambda m: m.fold(m_zeros(m, 1, 12, 15), (5, 5), 2), RuntimeError),
    (lambda m: m.fold(m_zeros(m, 1, 13, 16), (5, 5), 2), RuntimeError),
    (lambda m: m.fold(m_zeros(m, 1, 2, 3, 4), (5, 5), 2), RuntimeError),
]


def m_zeros(m, *shape):
    return torch.zeros(*shape) if m is TF else gk.zeros(*shape)


@pytest.mark.parametrize("case", range(len(BAD)))
def test_bad_arguments_raise_like_torch(case):
    fn, error = BAD[case]
    with pytest.raises(error):
        fn(TF)
    with pytest.raises(error):
        fn(F)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(0, 2), c=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7),
       k=st.integers(1, 3), d=st.integers(1, 2), p=st.integers(0, 2), s=st.integers(1, 3))
def test_hypothesis_geometry(n, c, h, w, k, d, p, s):
    options = dict(kernel_size=k, dilation=d, padding=p, stride=s)
    if min(h, w) + 2 * p - d * (k - 1) - 1 < 0:
        return
    check([(n, c, h, w)], lambda x: TF.fold(TF.unfold(x, **options) * 1.5, (h, w), **options),
          lambda x: F.fold(F.unfold(x, **options) * 1.5, (h, w), **options))

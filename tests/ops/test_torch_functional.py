"""ops/torch_functional.py against PyTorch: F's functions under torch.* names and the torch.*
functions beside them (channel_shuffle, pdist, convolution, rrelu, rms_norm, ...), plus the
small ops of ops/aliases.py (rsub, adjoint, unsafe_*, cond, while_loop)."""

import warnings

import numpy as np
import pytest
import torch

import gradkit as gk
from tests.oracle import check

RNG = np.random.default_rng(0)


def test_channel_shuffle_pixel_shuffle_pdist():
    for groups in (1, 2, 3):
        check([(2, 6, 3, 2)], lambda x: torch.channel_shuffle(x, groups),
              lambda x: gk.channel_shuffle(x, groups))
    check([(2, 6, 5)], lambda x: torch.channel_shuffle(x, 3), lambda x: gk.channel_shuffle(x, 3))
    check([(1, 8, 2, 3)], lambda x: torch.pixel_shuffle(x, 2), lambda x: gk.pixel_shuffle(x, 2))
    check([(1, 2, 4, 6)], lambda x: torch.pixel_unshuffle(x, 2),
          lambda x: gk.pixel_unshuffle(x, 2))
    for p in (2, 1, 3.0, float("inf")):
        check([(5, 3)], lambda x: torch.pdist(x, p), lambda x: gk.pdist(x, p))
    check([(1, 3)], torch.pdist, gk.pdist, grad=False)
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.pdist(lib.ones(3))
        with pytest.raises(RuntimeError):
            lib.channel_shuffle(lib.ones(1, 5, 2), 2)


def test_small_ops():
    check([(3, 4), (4,)], lambda a, b: torch.rsub(a, b, alpha=2),
          lambda a, b: gk.rsub(a, b, alpha=2))
    check([(3, 4)], lambda a: torch.rsub(a, 5.0), lambda a: gk.rsub(a, 5.0))
    check([(2, 3, 4)], torch.adjoint, gk.adjoint)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check([(2, 3), (3, 4), (4, 2)], torch.chain_matmul, gk.chain_matmul)
        check([(3, 3)], torch.nuclear_norm, gk.nuclear_norm)
        check([(2, 3, 3)], lambda a: torch.nuclear_norm(a, (1, 2)),
              lambda a: gk.nuclear_norm(a, (1, 2)))
    for name in ("unsafe_chunk", "unsafe_split"):
        check([(5, 2)], lambda a: getattr(torch, name)(a, 2)[1],
              lambda a: getattr(gk, name)(a, 2)[1])
        check([(5, 2)], lambda a: getattr(a, name)(2, 1)[0])
    check([(5, 2)], lambda a: torch.unsafe_split_with_sizes(a, [1, 4])[1],
          lambda a: gk.unsafe_split_with_sizes(a, [1, 4])[1])
    check([(5, 2)], lambda a: a.unsafe_split_with_sizes([4, 1])[0])


@pytest.mark.parametrize("name,args", [("celu_", (0.5,)), ("selu_", ()),
                                       ("threshold_", (0.1, 20.0))])
def test_functional_in_place(name, args):
    x = RNG.standard_normal((3, 4))
    t, g = torch.tensor(x), gk.tensor(x)
    assert getattr(gk, name)(g, *args) is g
    getattr(torch, name)(t, *args)
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-12)
    assert g._version == 1


def test_constant_pad_nd_and_frobenius_norm():
    for pad in ([1, 2], [1, -1], [0, 1, -1, 2], [-1, -1, 1, 0]):
        check([(3, 4)], lambda a: torch.constant_pad_nd(a, pad, 0.5),
              lambda a: gk.constant_pad_nd(a, pad, 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check([(2, 3, 4)], lambda a: torch.frobenius_norm(a, (1, 2), True),
              lambda a: gk.frobenius_norm(a, (1, 2), True))


def test_convolution_dispatch():
    check([(1, 2, 6), (3, 2, 3), (3,)],
          lambda x, w, b: torch.convolution(x, w, b, [2], [1], [1], False, [0], 1),
          lambda x, w, b: gk.convolution(x, w, b, [2], [1], [1], False, [0], 1))
    check([(1, 2, 4, 4), (2, 3, 3, 3), (3,)],
          lambda x, w, b: torch.convolution(x, w, b, [2, 2], [1, 1], [1, 1], True, [1, 1], 1),
          lambda x, w, b: gk.convolution(x, w, b, [2, 2], [1, 1], [1, 1], True, [1, 1], 1))
    check([(1, 2, 3, 3, 3), (2, 2, 2, 2, 2)],
          lambda x, w: torch.convolution(x, w, None, [1] * 3, [0] * 3, [1] * 3, False, [0] * 3,
                                         1),
          lambda x, w: gk.convolution(x, w, None, [1] * 3, [0] * 3, [1] * 3, False, [0] * 3, 1))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rrelu(dtype):
    check([(3, 4)], torch.rrelu, gk.rrelu, dtype=dtype)
    check([(3, 4)], lambda x: torch.rrelu(x, 0.1, 0.5), lambda x: gk.rrelu(x, 0.1, 0.5),
          dtype=dtype)
    x = gk.tensor(-np.ones(20000, dtype), requires_grad=True)
    y = gk.rrelu(x, 0.2, 0.4, training=True)
    slopes = -y.detach().numpy()
    assert slopes.min() >= 0.2 and slopes.max() <= 0.4 and y.dtype == dtype
    np.testing.assert_allclose(slopes.mean(), 0.3, atol=0.005)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes, rtol=1e-6)
    t, g = torch.tensor([-2.0, 3.0]), gk.tensor([-2.0, 3.0])
    torch.rrelu_(t), gk.rrelu_(g)
    np.testing.assert_allclose(g.numpy(), t.numpy())
    with pytest.raises(ValueError):
        gk.rrelu(gk.ones(2), 0.5, 0.1)


@pytest.mark.parametrize("pow,dim", [(2, 0), (1, 1), (3, 2), (2, -1)])
def test_norm_except_dim(pow, dim):
    check([(2, 3, 4)], lambda v: torch.norm_except_dim(v, pow, dim),
          lambda v: gk.norm_except_dim(v, pow, dim))


def test_cond_and_while_loop():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = gk.cond(x.sum() > 0, lambda a: a * 2, lambda a: a * 3, (x,))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    assert gk.cond(False, lambda: 1, lambda: 2) == 2
    i, total = gk.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s + i),
                             (gk.tensor(0), gk.tensor(0)))
    t_i, t_total = torch.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s + i),
                                    (torch.tensor(0), torch.tensor(0)))
    assert (i.item(), total.item()) == (t_i.item(), t_total.item())


@pytest.mark.parametrize("shape,weight", [((3,), True), ((3,), False), ((2, 3), True)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rms_norm(shape, weight, dtype):
    shapes = [(4, 2, 3)] + ([shape] if weight else [])
    check(shapes, lambda x, *w: torch.rms_norm(x, shape, *w),
          lambda x, *w: gk.rms_norm(x, shape, *w), dtype=dtype)
    check(shapes, lambda x, *w: torch.rms_norm(x, shape, *w, eps=1e-3),
          lambda x, *w: gk.rms_norm(x, shape, *w, eps=1e-3), dtype=dtype)
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.rms_norm(lib.ones(2, 4), [3])
    np.testing.assert_allclose(gk.rms_norm(gk.ones(2, 3), 3).numpy(), 1.0, rtol=1e-6)


def test_embedding_renorm_and_is_distributed():
    w = RNG.standard_normal((5, 3)) * 3
    t, g = torch.tensor(w), gk.tensor(w)
    idx = np.array([[0, 2], [2, 4]])
    assert gk.embedding_renorm_(g, gk.tensor(idx), 1.5, 2.0) is g
    torch.embedding_renorm_(t, torch.tensor(idx), 1.5, 2.0)
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-10)
    for lib in (torch, gk):
        with pytest.raises(RuntimeError, match="leaf Variable"):
            lib.embedding_renorm_(lib.ones(3, 2, requires_grad=True), lib.tensor([0]), 1.0,
                                  2.0)
    assert gk.is_distributed(gk.ones(1)) is torch.is_distributed(torch.ones(1))
    assert gk.ones(1).is_distributed() is False

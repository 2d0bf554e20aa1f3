"""Products against PyTorch: einsum (explicit, implicit, '...', repeated letters, sublists),
tensordot, the matrix products and their fused forms, outer, inner, vdot, kron, cross, cdist;
values and every gradient in float64 and float32, gradcheck, empty dims, bad shapes."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit.autograd.check import gradcheck
from gradkit.errors import ShapeError
from oracle import check

F64, F32 = np.float64, np.float32

EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("iij->ji", [(3, 3, 2)]),
    ("ij->i", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->ji", [(3, 4)]),
    ("ij", [(3, 4)]),
    ("ba", [(3, 4)]),
    ("Ab,bA", [(2, 3), (3, 2)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,i->", [(5,), (5,)]),
    ("i,i", [(1,), (5,)]),
    ("ij,j->ij", [(3, 1), (4,)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("...ij,...jk", [(5, 1, 3, 4), (2, 4, 6)]),
    ("i...->...", [(3, 2, 4)]),
    ("ij...->ij", [(2, 3, 4)]),
    ("...->...", [()]),
    (",i->i", [(), (3,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ii,ij,jk->k", [(3, 3), (3, 4), (4, 2)]),
    ("iji,jk->kj", [(3, 2, 3), (2, 4)]),
    (" i j , j k -> i k ", [(2, 3), (3, 4)]),
    ("ij,kl->", [(2, 3), (4, 5)]),
]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("equation,shapes", EINSUM, ids=[e for e, _ in EINSUM])
def test_einsum_matches_torch(equation, shapes, dtype):
    check(shapes, lambda *xs: torch.einsum(equation, *xs),
          lambda *xs: gk.einsum(equation, *xs), dtype=dtype)


@pytest.mark.parametrize("equation,shapes", EINSUM, ids=[e for e, _ in EINSUM])
def test_einsum_gradcheck(equation, shapes):
    xs = [gk.tensor(a, requires_grad=True) for a in
          [np.random.default_rng(1).standard_normal(s) for s in shapes]]
    gradcheck(lambda *t: gk.einsum(equation, *t), xs)


def test_einsum_list_and_sublist_forms():
    check([(3, 4), (4, 5)], lambda a, b: torch.einsum("ij,jk", [a, b]),
          lambda a, b: gk.einsum("ij,jk", [a, b]))
    check([(3, 4), (4, 5)], lambda a, b: torch.einsum(a, [0, 1], b, [1, 2], [0, 2]),
          lambda a, b: gk.einsum(a, [0, 1], b, [1, 2], [0, 2]))
    check([(5, 3, 4), (4, 2)],
          lambda a, b: torch.einsum(a, [..., 0, 1], b, [1, 2], [..., 0, 2]),
          lambda a, b: gk.einsum(a, [..., 0, 1], b, [1, 2], [..., 0, 2]))
    check([(3, 4)], lambda a: torch.einsum(a, [1, 0]), lambda a: gk.einsum(a, [1, 0]))


def test_einsum_non_contiguous_empty_and_int():
    check([(4, 3), (4, 5)], lambda a, b: torch.einsum("ij,jk->ik", a.T, b),
          lambda a, b: gk.einsum("ij,jk->ik", a.T, b))
    check([(0, 4), (4, 5)], lambda a, b: torch.einsum("ij,jk->ik", a, b),
          lambda a, b: gk.einsum("ij,jk->ik", a, b))
    check([(3, 0), (0, 5)], lambda a, b: torch.einsum("ij,jk->ik", a, b),
          lambda a, b: gk.einsum("ij,jk->ik", a, b))
    a = np.arange(6).reshape(2, 3)
    out = gk.einsum("ij,kj->ik", gk.tensor(a), gk.tensor(a))
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), np.einsum("ij,kj->ik", a, a))


@pytest.mark.parametrize("equation,shapes", [
    ("ii", [(2, 3)]),
    ("ij,jk", [(2, 3), (4, 5)]),
    ("ij", [(2, 3, 4)]),
    ("ij->ii", [(2, 2)]),
    ("ij->k", [(2, 2)]),
    ("ij,jk", [(2, 3)]),
    ("ij", [(2, 3), (3, 4)]),
    ("i...j...", [(2, 3, 4)]),
])
def test_einsum_bad_input_raises_like_torch(equation, shapes):
    tt = [torch.zeros(s) for s in shapes]
    with pytest.raises(RuntimeError):
        torch.einsum(equation, *tt)
    with pytest.raises(RuntimeError, match="einsum"):
        gk.einsum(equation, *[gk.zeros(*s) for s in shapes])


def test_einsum_mixed_float_dtypes_raise():
    with pytest.raises(RuntimeError, match="dtype"):
        gk.einsum("i,i", gk.zeros(3), gk.zeros(3, dtype=gk.float64))


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_einsum_hypothesis_random_equations(data):
    """Random operands over the letters a-d (repeats allowed), an explicit output of some of
    their letters in any order, or the implicit one."""
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=4, max_size=4))
    subs = data.draw(st.lists(st.text("abcd", max_size=3), min_size=1, max_size=3))
    letters = sorted(set("".join(subs)))
    out = data.draw(st.none() | st.permutations(letters).flatmap(
        lambda p: st.integers(0, len(p)).map(lambda n: "".join(p[:n]))))
    equation = ",".join(subs) + ("" if out is None else "->" + out)
    shapes = [tuple(sizes["abcd".index(c)] for c in sub) for sub in subs]
    check(shapes, lambda *xs: torch.einsum(equation, *xs),
          lambda *xs: gk.einsum(equation, *xs))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=4, max_size=4), st.integers(0, 2))
def test_einsum_hypothesis_batched_contraction(sizes, mode):
    b, n, m, p = sizes
    equation = ["bij,bjk->bik", "bij,bjk->ik", "bij,bjk"][mode]
    check([(b, n, m), (b, m, p)], lambda x, y: torch.einsum(equation, x, y),
          lambda x, y: gk.einsum(equation, x, y))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=4, max_size=4), st.integers(0, 2))
def test_tensordot_hypothesis(sizes, n):
    a_shape, b_shape = tuple(sizes[:3]), tuple(sizes[3 - n:3]) + (sizes[3],)
    check([a_shape, b_shape], lambda a, b: torch.tensordot(a, b, dims=n),
          lambda a, b: gk.tensordot(a, b, dims=n))


@pytest.mark.parametrize("dtype", [F64, F32])
def test_tensordot_dim_lists(dtype):
    dims = ([2, 0], [0, 1])
    check([(3, 4, 5), (5, 3, 2)], lambda a, b: torch.tensordot(a, b, dims=dims),
          lambda a, b: gk.tensordot(a, b, dims=dims), dtype=dtype)
    check([(3, 4, 5), (5, 3, 2)], lambda a, b: torch.tensordot(a, b, dims=([-1], [0])),
          lambda a, b: gk.tensordot(a, b, dims=([-1], [0])), dtype=dtype)
    check([(2, 3), (3, 4)], lambda a, b: torch.tensordot(a, b, dims=0),
          lambda a, b: gk.tensordot(a, b, dims=0), dtype=dtype)


def test_tensordot_bad_dims():
    with pytest.raises(RuntimeError, match="contracted dimensions"):
        gk.tensordot(gk.zeros(2, 3), gk.zeros(4, 5), dims=1)
    with pytest.raises(RuntimeError):
        gk.tensordot(gk.zeros(2, 3), gk.zeros(3, 5), dims=3)
    with pytest.raises(TypeError):
        gk.tensordot(gk.zeros(2, 3), gk.zeros(3, 5), dims=(1, 0))


MATRIX = [
    ("mm", [(3, 4), (4, 5)], torch.mm, gk.mm),
    ("bmm", [(2, 3, 4), (2, 4, 5)], torch.bmm, gk.bmm),
    ("mv", [(3, 4), (4,)], torch.mv, gk.mv),
    ("outer", [(3,), (4,)], torch.outer, gk.outer),
    ("ger", [(3,), (4,)], torch.outer, gk.ger),
    ("inner", [(2, 3), (4, 3)], torch.inner, gk.inner),
    ("inner_1d", [(3,), (3,)], torch.inner, gk.inner),
    ("inner_0d", [(), (2, 3)], torch.inner, gk.inner),
    ("vdot", [(5,), (5,)], torch.vdot, gk.vdot),
    ("kron", [(2, 3), (4, 2)], torch.kron, gk.kron),
    ("kron_ndim", [(2, 3), (2, 1, 2)], torch.kron, gk.kron),
    ("bmm_empty_batch", [(0, 3, 4), (0, 4, 5)], torch.bmm, gk.bmm),
    ("mm_size1", [(1, 4), (4, 1)], torch.mm, gk.mm),
    ("mm_empty_inner", [(3, 0), (0, 2)], torch.mm, gk.mm),
]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,shapes,tfn,gfn", MATRIX, ids=[m[0] for m in MATRIX])
def test_matrix_products(name, shapes, tfn, gfn, dtype):
    check(shapes, tfn, gfn, dtype=dtype)


def test_matrix_products_non_contiguous_and_gradcheck():
    check([(4, 3), (5, 4)], lambda a, b: torch.mm(a.T, b.T), lambda a, b: gk.mm(a.T, b.T))
    check([(2, 4, 3), (2, 4, 5)], lambda a, b: torch.bmm(a.transpose(1, 2), b),
          lambda a, b: gk.bmm(a.transpose(1, 2), b))
    rng = np.random.default_rng(2)
    a, b = (gk.tensor(rng.standard_normal(s), requires_grad=True) for s in [(2, 3), (3, 2)])
    gradcheck(gk.kron, [a, b])
    gradcheck(gk.bmm, [gk.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True),
                       gk.tensor(rng.standard_normal((2, 4, 2)), requires_grad=True)])


FUSED = [
    ("addmm", [(3, 5), (3, 4), (4, 5)], torch.addmm, gk.addmm),
    ("addmm_bcast", [(5,), (3, 4), (4, 5)], torch.addmm, gk.addmm),
    ("addmv", [(3,), (3, 4), (4,)], torch.addmv, gk.addmv),
    ("addr", [(3, 4), (3,), (4,)], torch.addr, gk.addr),
    ("baddbmm", [(2, 3, 5), (2, 3, 4), (2, 4, 5)], torch.baddbmm, gk.baddbmm),
    ("baddbmm_bcast", [(3, 1), (2, 3, 4), (2, 4, 5)], torch.baddbmm, gk.baddbmm),
    ("addbmm", [(3, 5), (2, 3, 4), (2, 4, 5)], torch.addbmm, gk.addbmm),
]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("coef", [dict(), dict(beta=0.5, alpha=-2.0), dict(beta=0, alpha=3)])
@pytest.mark.parametrize("name,shapes,tfn,gfn", FUSED, ids=[m[0] for m in FUSED])
def test_fused_products(name, shapes, tfn, gfn, coef, dtype):
    check(shapes, lambda *xs: tfn(*xs, **coef), lambda *xs: gfn(*xs, **coef), dtype=dtype)


def test_fused_input_must_broadcast_to_the_product():
    with pytest.raises(ShapeError, match=r"addmm: input of shape \(2, 3, 5\)"):
        gk.addmm(gk.zeros(2, 3, 5), gk.zeros(3, 4), gk.zeros(4, 5))
    with pytest.raises(ShapeError, match="baddbmm"):
        gk.baddbmm(gk.zeros(4), gk.zeros(2, 3, 4), gk.zeros(2, 4, 5))


def test_fused_beta_zero_ignores_nan_input():
    nan = gk.full((2, 2), float("nan"))
    out = gk.addmm(nan, gk.ones(2, 3), gk.ones(3, 2), beta=0)
    np.testing.assert_array_equal(out.numpy(), np.full((2, 2), 3.0, np.float32))


@pytest.mark.parametrize("fn,shapes,pattern", [
    (gk.mm, [(2, 3), (4, 5)], r"mm: expected \(n, m\) and \(m, p\), got \(2, 3\) and \(4, 5\)"),
    (gk.mm, [(2, 3, 1), (3, 5)], "mm: expected"),
    (gk.bmm, [(2, 3, 4), (3, 4, 5)], r"bmm: expected \(b, n, m\) and \(b, m, p\), got "
                                     r"\(2, 3, 4\) and \(3, 4, 5\)"),
    (gk.bmm, [(3, 4), (4, 5)], "bmm: expected"),
    (gk.mv, [(2, 3), (4,)], "mv: expected"),
    (gk.outer, [(2, 3), (4,)], "outer: expected"),
    (gk.vdot, [(2,), (3,)], "vdot: expected"),
    (gk.inner, [(2,), (3,)], "inner: the last dims"),
])
def test_product_shape_errors(fn, shapes, pattern):
    with pytest.raises(ShapeError, match=pattern):
        fn(*[gk.zeros(*s) for s in shapes])


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("shapes,dim", [
    ([(4, 3), (4, 3)], -1), ([(3, 5), (3, 5)], 0), ([(4, 3), (1, 3)], 1),
    ([(2, 3, 4), (1, 3, 1)], -2), ([(3,), (3,)], 0), ([(0, 3), (1, 3)], 1),
])
def test_cross(shapes, dim, dtype):
    check(shapes, lambda a, b: torch.cross(a, b, dim=dim),
          lambda a, b: gk.cross(a, b, dim=dim), dtype=dtype)
    check(shapes, lambda a, b: torch.linalg.cross(a, b, dim=dim),
          lambda a, b: gk.cross(a, b, dim=dim), dtype=dtype)


def test_cross_default_dim_and_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check([(3, 4), (3, 4)], lambda a, b: torch.cross(a, b), lambda a, b: gk.cross(a, b))
    check([(3, 4), (3, 4)], lambda a, b: torch.cross(a.T, b.T, dim=1),
          lambda a, b: gk.cross(a.T, b.T, dim=1))
    with pytest.warns(UserWarning, match="dim"):
        gk.cross(gk.zeros(3), gk.zeros(3))
    with pytest.raises(ShapeError, match="length 3"):
        gk.cross(gk.zeros(4, 3), gk.zeros(4, 3), dim=0)
    with pytest.raises(ShapeError, match="same number of dimensions"):
        gk.cross(gk.zeros(3), gk.zeros(2, 3), dim=-1)
    rng = np.random.default_rng(3)
    gradcheck(lambda a, b: gk.cross(a, b, dim=-1),
              [gk.tensor(rng.standard_normal((2, 3)), requires_grad=True),
               gk.tensor(rng.standard_normal((1, 3)), requires_grad=True)])


CDIST = [((2, 5, 3), (2, 4, 3)), ((5, 3), (4, 3)), ((2, 1, 5, 3), (3, 4, 3)),
         ((0, 3), (4, 3)), ((5, 0), (4, 0)), ((1, 1), (1, 1))]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("p", [2.0, 1.0, float("inf"), 3.0, 0.5, 1.5, 0.0])
@pytest.mark.parametrize("shapes", CDIST, ids=str)
def test_cdist(shapes, p, dtype):
    check(list(shapes), lambda a, b: torch.cdist(a, b, p=p), lambda a, b: gk.cdist(a, b, p=p),
          dtype=dtype)


@pytest.mark.parametrize("p", [2.0, 1.0, float("inf"), 3.0, 0.5])
def test_cdist_zero_distance_gradient(p):
    x = np.array([[1.0, 2.0], [3.0, 3.0]])
    y = np.array([[1.0, 2.0], [3.0, 0.5], [3.0, 3.0]])
    check([], lambda a, b: torch.cdist(a, b, p=p), lambda a, b: gk.cdist(a, b, p=p),
          arrays=[x, y])


def test_cdist_non_contiguous_gradcheck_and_errors():
    check([(3, 5), (3, 4)], lambda a, b: torch.cdist(a.T, b.T), lambda a, b: gk.cdist(a.T, b.T))
    rng = np.random.default_rng(4)
    for p in (2.0, 1.0, 3.0):
        gradcheck(lambda a, b: gk.cdist(a, b, p=p),
                  [gk.tensor(rng.standard_normal((2, 3, 2)), requires_grad=True),
                   gk.tensor(rng.standard_normal((2, 4, 2)), requires_grad=True)])
    with pytest.raises(ShapeError, match="same number of columns"):
        gk.cdist(gk.zeros(2, 3), gk.zeros(4, 5))
    with pytest.raises(ShapeError, match="2D"):
        gk.cdist(gk.zeros(3), gk.zeros(4, 3))
    with pytest.raises(RuntimeError, match="non-negative"):
        gk.cdist(gk.zeros(2, 3), gk.zeros(4, 3), p=-1)
    with pytest.raises(RuntimeError, match="compute_mode"):
        gk.cdist(gk.zeros(2, 3), gk.zeros(4, 3), compute_mode="fast")
    check([(30, 3), (27, 3)], lambda a, b: torch.cdist(
        a, b, compute_mode="donot_use_mm_for_euclid_dist"), lambda a, b: gk.cdist(a, b))
    with pytest.raises(RuntimeError, match="floating"):
        gk.cdist(gk.zeros(2, 3, dtype=gk.int64), gk.zeros(4, 3, dtype=gk.int64))


def test_product_methods():
    rng = np.random.default_rng(5)
    a, b = gk.tensor(rng.standard_normal((2, 3, 4))), gk.tensor(rng.standard_normal((2, 4, 5)))
    np.testing.assert_allclose(a.bmm(b).numpy(), gk.bmm(a, b).numpy())
    m, v = a[0], gk.tensor(rng.standard_normal(4))
    np.testing.assert_allclose(m.mm(b[0]).numpy(), m.numpy() @ b[0].numpy())
    np.testing.assert_allclose(m.mv(v).numpy(), m.numpy() @ v.numpy())
    np.testing.assert_allclose(v.outer(v).numpy(), np.outer(v.numpy(), v.numpy()))
    np.testing.assert_allclose(v.ger(v).numpy(), np.outer(v.numpy(), v.numpy()))
    np.testing.assert_allclose(m.addmm(m, v.reshape(4, 1).expand(4, 4)).numpy(),
                               m.numpy() + m.numpy() @ np.tile(v.numpy()[:, None], 4))
    assert a.tensordot(b, dims=([2, 0], [1, 0])).shape == (3, 5)
    assert a.baddbmm(a, gk.eye(4, dtype=gk.float64).expand(2, 4, 4)).shape == (2, 3, 4)
    assert a.cross(a, dim=1).shape == (2, 3, 4)
    assert m.kron(m).shape == (9, 16)
    assert m.inner(m).shape == (3, 3)
    assert v.vdot(v).shape == ()

"""ops/sampling.py: shapes and dtypes as PyTorch's, the draws' statistics, seeding, errors."""

import numpy as np
import pytest
import torch

import gradkit as gk


@pytest.fixture(autouse=True)
def _seed():
    gk.manual_seed(0)


def _like_torch(g, t):
    assert g.shape == tuple(t.shape)
    assert g.dtype == np.dtype(str(t.dtype).replace("torch.", ""))


def test_randperm():
    for n in (0, 1, 7):
        p = gk.randperm(n)
        _like_torch(p, torch.randperm(n))
        assert sorted(p.tolist()) == list(range(n))
    assert gk.randperm(4, dtype=gk.int32).dtype == np.int32
    draws = np.stack([gk.randperm(3).numpy() for _ in range(3000)])
    np.testing.assert_allclose((draws == 0).mean(0), 1 / 3, atol=0.04)
    with pytest.raises(RuntimeError):
        gk.randperm(-1)


def test_seeding_repeats_and_generator():
    gk.manual_seed(3)
    a = gk.multinomial(gk.ones(5), 3).tolist(), gk.bernoulli(gk.full((4,), 0.5)).tolist()
    gk.manual_seed(3)
    b = gk.multinomial(gk.ones(5), 3).tolist(), gk.bernoulli(gk.full((4,), 0.5)).tolist()
    assert a == b
    g1, g2 = np.random.default_rng(1), np.random.default_rng(1)
    assert gk.randperm(6, generator=g1).tolist() == gk.randperm(6, generator=g2).tolist()
    s = gk.seed()
    first = gk.randperm(8).tolist()
    gk.manual_seed(s)
    assert gk.randperm(8).tolist() == first


def test_multinomial_with_replacement_frequencies():
    w = np.array([[0.1, 0.0, 0.6, 0.3], [1.0, 1.0, 2.0, 0.0]])
    t = torch.multinomial(torch.tensor(w), 20000, replacement=True)
    g = gk.multinomial(gk.tensor(w), 20000, replacement=True)
    _like_torch(g, t)
    for row in range(2):
        freq = np.bincount(g.numpy()[row], minlength=4) / 20000
        np.testing.assert_allclose(freq, w[row] / w[row].sum(), atol=0.015)
    one = gk.multinomial(gk.tensor([0.2, 0.8], dtype=gk.float32), 5, True)
    _like_torch(one, torch.multinomial(torch.tensor([0.2, 0.8]), 5, True))


def test_multinomial_without_replacement():
    w = np.array([0.5, 0.0, 0.25, 0.25])
    draws = np.stack([gk.multinomial(gk.tensor(w), 3).numpy() for _ in range(4000)])
    assert all(len(set(r)) == 3 and 1 not in r for r in draws.tolist())
    np.testing.assert_allclose(np.bincount(draws[:, 0], minlength=4) / 4000, w, atol=0.03)
    # second pick after a first pick of 0: 2 and 3 are equally likely
    second = draws[draws[:, 0] == 0, 1]
    np.testing.assert_allclose((second == 2).mean(), 0.5, atol=0.04)
    assert gk.multinomial(gk.tensor([0.0, 0.5, 0.0]), 3).tolist()[0] == 1  # zeros last
    batch = gk.multinomial(gk.tensor(np.ones((3, 5))), 5)
    assert all(sorted(r) == list(range(5)) for r in batch.tolist())


@pytest.mark.parametrize("args", [
    (np.array([0.5, -0.1]), 1, False), (np.array([0.0, 0.0]), 1, True),
    (np.array([0.5, 0.5]), 3, False),
    (np.array([[[0.5]]]), 1, True), (np.array([0.5, np.nan]), 1, True),
    (np.array([0.5, 0.5]), 0, True)])
def test_multinomial_errors_as_torch(args):
    w, k, rep = args
    with pytest.raises(RuntimeError):
        torch.multinomial(torch.tensor(w), k, rep)
    with pytest.raises(RuntimeError):
        gk.multinomial(gk.tensor(w), k, rep)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bernoulli(dtype):
    p = np.linspace(0, 1, 5).astype(dtype)
    draws = np.stack([gk.bernoulli(gk.tensor(p)).numpy() for _ in range(4000)])
    _like_torch(gk.bernoulli(gk.tensor(p)), torch.bernoulli(torch.tensor(p)))
    np.testing.assert_allclose(draws.mean(0), p, atol=0.03)
    assert set(np.unique(draws)) <= {0.0, 1.0}
    fixed = gk.bernoulli(gk.zeros(20000, dtype=dtype), 0.3)
    np.testing.assert_allclose(fixed.numpy().mean(), 0.3, atol=0.015)
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.bernoulli(lib.tensor([0.5, 1.5]))


def test_tensor_bernoulli_methods():
    x = gk.zeros(20000)
    assert x.bernoulli_(0.25) is x and x._version == 1
    np.testing.assert_allclose(x.numpy().mean(), 0.25, atol=0.015)
    assert x.dtype == np.float32
    y = gk.zeros(2, 10000, dtype=gk.int64).bernoulli_(gk.tensor([[0.1], [0.9]]))
    assert y.dtype == np.int64
    np.testing.assert_allclose(y.numpy().mean(1), [0.1, 0.9], atol=0.02)
    p = gk.full((20000,), 0.7)
    np.testing.assert_allclose(p.bernoulli().numpy().mean(), 0.7, atol=0.015)
    np.testing.assert_allclose(p.bernoulli(0.2).numpy().mean(), 0.2, atol=0.015)
    m = gk.tensor([[0.0, 1.0]]).multinomial(3, True)
    assert m.tolist() == [[1, 1, 1]]


def test_poisson_and_binomial():
    rates = np.array([0.0, 0.5, 4.0, 30.0])
    draws = np.stack([gk.poisson(gk.tensor(rates)).numpy() for _ in range(4000)])
    _like_torch(gk.poisson(gk.tensor(rates)), torch.poisson(torch.tensor(rates)))
    np.testing.assert_allclose(draws.mean(0), rates, rtol=0.05, atol=0.03)
    np.testing.assert_allclose(draws.var(0), rates, rtol=0.1, atol=0.03)
    n, p = np.array([10.0, 0.0, 50.0]), np.array([0.3, 0.5, 0.9])
    draws = np.stack([gk.binomial(gk.tensor(n), gk.tensor(p)).numpy() for _ in range(4000)])
    _like_torch(gk.binomial(gk.tensor(n), gk.tensor(p)),
                torch.binomial(torch.tensor(n), torch.tensor(p)))
    np.testing.assert_allclose(draws.mean(0), n * p, rtol=0.03, atol=0.03)
    with pytest.raises(RuntimeError):
        gk.poisson(gk.tensor([-1.0]))
    with pytest.raises(TypeError):
        gk.binomial(gk.tensor([1.0]), gk.tensor([0.5], dtype=gk.float64))


def test_randint_like():
    x = gk.ones(3, 4, dtype=gk.float64)
    for args in ((5,), (-3, 3)):
        t, g = torch.randint_like(torch.ones(3, 4, dtype=torch.float64), *args), \
            gk.randint_like(x, *args)
        _like_torch(g, t)
        lo, hi = (0, args[0]) if len(args) == 1 else args
        assert g.numpy().min() >= lo and g.numpy().max() < hi
    assert gk.randint_like(gk.ones(2, dtype=gk.int64), 3).dtype == np.int64
    assert gk.randint_like(x, 4, dtype=gk.int32).dtype == np.int32
    with pytest.raises(RuntimeError):
        gk.randint_like(x, 3, 3)


@pytest.mark.parametrize("args,kwargs", [((0, 2, 5), {}), ((1, -1, 4), {"base": 2.0}),
                                         ((0, 1, 1), {}), ((0, 1, 0), {}),
                                         ((-2, 2, 7), {"dtype": torch.float64})])
def test_logspace(args, kwargs):
    t = torch.logspace(*args, **kwargs)
    gkw = {k: (gk.float64 if v is torch.float64 else v) for k, v in kwargs.items()}
    g = gk.logspace(*args, **gkw)
    _like_torch(g, t)
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-6)


@pytest.mark.parametrize("args", [(1, 4), (0, 1, 0.25), (3, 0, -1), (0.5, 2.6, 0.7),
                                  (1, 1)])
def test_range(args):
    with pytest.warns(UserWarning):
        t = torch.range(*args)
    with pytest.warns(UserWarning, match="deprecated"):
        g = gk.range(*args)
    _like_torch(g, t)
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-6)


def test_range_errors():
    with pytest.warns(UserWarning):
        with pytest.raises(RuntimeError):
            torch.range(0, 3, -1)
        with pytest.raises(RuntimeError):
            gk.range(0, 3, -1)
        with pytest.raises(ValueError):
            gk.range(0, 3, 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_in_place_distributions(dtype):
    n = 40000
    x = gk.zeros(n, dtype=dtype)
    assert x.exponential_(2.0) is x and x.dtype == dtype
    np.testing.assert_allclose(x.numpy().mean(), 0.5, rtol=0.03)
    x.geometric_(0.25)
    assert x.numpy().min() >= 1
    np.testing.assert_allclose(x.numpy().mean(), 4.0, rtol=0.03)
    x.log_normal_(0.0, 0.5)
    np.testing.assert_allclose(np.log(x.numpy()).std(), 0.5, rtol=0.03)
    x.cauchy_(1.0, 2.0)
    np.testing.assert_allclose(np.median(x.numpy()), 1.0, atol=0.1)
    x.random_(3, 7)
    assert set(np.unique(x.numpy())) == {3, 4, 5, 6}
    x.random_(4)
    assert set(np.unique(x.numpy())) == {0, 1, 2, 3}
    x.random_()
    assert x.numpy().min() >= 0 and x.numpy().max() <= 2 ** (24 if dtype == np.float32 else 53)
    assert x._version == 7


def test_random_integer_and_bool():
    x = gk.zeros(1000, dtype=gk.int64).random_()
    assert x.numpy().min() >= 0 and x.numpy().max() > 2 ** 60
    b = gk.zeros(1000, dtype=gk.bool_).random_()
    assert set(np.unique(b.numpy())) == {False, True}


def test_initial_seed_is_the_last_seed_as_in_torch():
    gk.manual_seed(1234)
    torch.manual_seed(1234)
    assert gk.initial_seed() == torch.initial_seed() == 1234
    assert gk.seed() == gk.initial_seed()

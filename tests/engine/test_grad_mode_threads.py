"""Grad mode is per thread, as in PyTorch: one thread's no_grad never reaches another."""

import threading

import numpy as np

import gradkit as gk
from gradkit import nn, optim


def test_interleaved_no_grad_in_two_threads_leaves_every_thread_as_it_was():
    """Enter A, enter B, leave A, leave B: with one process-wide flag this left it off."""
    steps = [threading.Event() for _ in range(4)]
    seen = {}

    def worker(name, enter_after, leave_after, done):
        steps[enter_after].wait()
        with gk.no_grad():
            seen[name + " inside"] = gk.is_grad_enabled()
            steps[enter_after + 1].set()
            steps[leave_after].wait()
        seen[name + " after"] = gk.is_grad_enabled()
        done.set()

    a_done, b_done = threading.Event(), threading.Event()
    a = threading.Thread(target=worker, args=("A", 0, 2, a_done))
    b = threading.Thread(target=worker, args=("B", 1, 3, b_done))
    a.start(), b.start()
    steps[0].set()          # A enters, then lets B enter
    steps[2].wait()         # B is inside: let A leave
    a_done.wait()
    steps[3].set()          # then B leaves
    a.join(), b.join()
    assert seen == {"A inside": False, "B inside": False, "A after": True, "B after": True}
    assert gk.is_grad_enabled()


def test_a_new_thread_starts_with_grad_on_whatever_its_parent_does():
    result = []
    with gk.no_grad():
        t = threading.Thread(target=lambda: result.append(gk.is_grad_enabled()))
        t.start()
        t.join()
        assert not gk.is_grad_enabled()
    assert result == [True] and gk.is_grad_enabled()


def test_training_in_one_thread_while_another_runs_inference_under_no_grad():
    """The review's case: 300 training steps crashed while another thread sat in no_grad."""
    gk.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    frozen = nn.Sequential(nn.Linear(4, 3))
    opt = optim.SGD(model.parameters(), lr=0.05)
    x, y = gk.randn(32, 4), gk.randint(0, 3, (32,))
    stop = threading.Event()
    errors = []

    def infer():
        while not stop.is_set():
            with gk.no_grad():
                frozen(x).sum()

    def toggle():
        while not stop.is_set():
            gk.set_grad_enabled(False)
            gk.set_grad_enabled(True)

    threads = [threading.Thread(target=infer), threading.Thread(target=toggle)]
    for t in threads:
        t.start()
    try:
        for _ in range(60):
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            grads = [p.grad for p in model.parameters()]
            if any(g is None for g in grads):
                errors.append("a parameter got no gradient")
            opt.step()
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []


def test_set_grad_enabled_as_a_decorator():
    @gk.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert gk.is_grad_enabled()
    w = gk.ones(2, requires_grad=True)
    assert not f(w).requires_grad and (w * 2).requires_grad


def test_two_threads_training_their_own_models_get_the_single_thread_results():
    def train(seed, out):
        rng = np.random.default_rng(seed)
        x = gk.tensor(rng.standard_normal((64, 8)).astype(np.float32))
        y = gk.tensor(rng.integers(0, 4, 64))
        w1 = gk.tensor(rng.standard_normal((8, 32)).astype(np.float32) * 0.3, requires_grad=True)
        w2 = gk.tensor(rng.standard_normal((32, 4)).astype(np.float32) * 0.3, requires_grad=True)
        opt = optim.SGD([w1, w2], lr=0.1)
        for _ in range(40):
            loss = nn.functional.cross_entropy((x @ w1).relu() @ w2, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with gk.no_grad():  # a validation pass between steps, as Trainer.fit does
                ((x @ w1).relu() @ w2).sum()
        out[seed] = w2.numpy().copy()

    alone, together = {}, {}
    for seed in (1, 2):
        train(seed, alone)
    threads = [threading.Thread(target=train, args=(s, together)) for s in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for seed in (1, 2):
        np.testing.assert_array_equal(together[seed], alone[seed])


def test_two_trainer_fits_with_validation_in_two_threads():
    """The review's crash: two Trainer.fit calls with validation, each in its own thread."""
    from gradkit.data import DataLoader, TensorDataset
    from gradkit.train import Trainer

    def fit(seed, out):
        gk.manual_seed(seed)
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((96, 1, 8, 8)).astype(np.float32)
        y = rng.integers(0, 3, 96)
        data = TensorDataset(gk.tensor(x), gk.tensor(y))
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                              nn.Linear(256, 3))
        trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.05), DataLoader(data, 32),
                          val_loader=DataLoader(data, 48), max_epochs=3)
        out[seed] = [r["val_loss"] for r in trainer.fit()]

    results = {}
    threads = [threading.Thread(target=fit, args=(s, results)) for s in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 1]
    assert all(len(v) == 3 and np.isfinite(v).all() for v in results.values())

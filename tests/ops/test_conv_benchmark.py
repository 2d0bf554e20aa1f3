"""Benchmark mode (ops/conv_benchmark.py): every shape timed once, the fastest kept, results
as PyTorch's; the timing forces each candidate in its own thread only."""

import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradkit as gk
from gradkit.ops import conv_benchmark, conv_select
from gradkit.ops.conv import conv2d
from oracle import check


@pytest.fixture
def benchmark_mode():
    conv_benchmark.clear()
    with conv_select.conv_algorithm("benchmark"):
        yield
    conv_benchmark.clear()


SHAPES = [((4, 16, 8, 8), (16, 16, 3, 3), dict(padding=1)),      # every candidate applies
          ((3, 6, 14, 14), (16, 6, 5, 5), dict()),
          ((2, 8, 9, 9), (12, 8, 3, 3), dict(stride=2, padding=1)),
          ((2, 8, 6, 6), (4, 8, 1, 1), dict()),
          ((2, 4, 7, 7), (6, 2, 3, 3), dict(groups=2, padding=1))]  # im2col only


@pytest.mark.parametrize("xs,ws,options", SHAPES)
def test_results_match_torch_and_each_shape_is_timed_once(benchmark_mode, xs, ws, options,
                                                          monkeypatch):
    timed = []
    original = conv_benchmark._time_each
    monkeypatch.setattr(conv_benchmark, "_time_each",
                        lambda *a: timed.append(a[0]) or original(*a))
    for _ in range(2):
        check([xs, ws, (ws[0],)], lambda x, w, b: TF.conv2d(x, w, b, **options),
              lambda x, w, b: conv2d(x, w, b, **options))
    assert len(timed) == 1  # the second call of the shape found its choice
    (key, name), = conv_benchmark.choices().items()
    assert conv_select.applies(name, timed[0])
    assert key[0] == xs and key[1] == ws and key[6] == "<f8"


def test_the_fastest_candidate_is_kept(benchmark_mode, monkeypatch):
    seconds = {"im2col": 3.0, "pointwise": 9.0, "shifted": 2.0, "chwn": 1.0, "winograd": 0.5,
               "winograd4": 0.7}
    runs = []

    def fake_run(geo, x, w, b, needs):
        name = conv_select.choose(geo)
        runs.append(name)
        return seconds[name]

    monkeypatch.setattr(conv_benchmark, "_run", fake_run)
    x = gk.tensor(np.ones((2, 4, 8, 8)), requires_grad=True)
    w = gk.tensor(np.ones((4, 4, 3, 3)), requires_grad=True)
    conv2d(x, w, padding=1).sum().backward()
    assert sorted(set(runs)) == ["chwn", "im2col", "shifted", "winograd",
                                 "winograd4"]  # not pointwise: 3×3
    assert list(conv_benchmark.choices().values()) == ["winograd"]
    assert conv_select.get_conv_algorithm() == "benchmark"  # the timing left the setting alone


def test_forward_only_calls_time_the_forward_only(benchmark_mode, monkeypatch):
    called = []
    original = conv_benchmark._run
    monkeypatch.setattr(conv_benchmark, "_run",
                        lambda geo, x, w, b, needs: called.append(needs) or
                        original(geo, x, w, b, needs))
    with gk.no_grad():
        out = conv2d(gk.tensor(np.ones((2, 3, 6, 6))), gk.tensor(np.ones((5, 3, 3, 3))),
                     padding=1)
    expected = TF.conv2d(torch.ones(2, 3, 6, 6, dtype=torch.float64),
                         torch.ones(5, 3, 3, 3, dtype=torch.float64), padding=1)
    np.testing.assert_allclose(out.numpy(), expected.numpy())
    assert called and all(needs == () for needs in called)
    assert list(conv_benchmark.choices())[0][7] == ()


def test_forcing_in_one_thread_leaves_the_others_alone():
    seen = {}
    inside, done = threading.Event(), threading.Event()

    def timing_thread():
        with conv_select.forced_here("winograd"):
            seen["here"] = conv_select._setting()
            inside.set()
            done.wait(5)

    thread = threading.Thread(target=timing_thread)
    thread.start()
    inside.wait(5)
    seen["other"] = conv_select._setting()
    done.set()
    thread.join()
    assert seen == {"here": "winograd", "other": conv_select.get_conv_algorithm()}
    with pytest.raises(RuntimeError), conv_select.forced_here("chwn"):
        raise RuntimeError
    assert conv_select._setting() == conv_select.get_conv_algorithm()


def test_a_model_trains_the_same_in_benchmark_mode(benchmark_mode):
    """A few SGD steps of a small convnet: the losses as with auto, to float32 rounding."""
    losses = {}
    for setting in ("auto", "benchmark"):
        gk.manual_seed(0)
        model = gk.nn.Sequential(gk.nn.Conv2d(3, 8, 3, padding=1), gk.nn.ReLU(),
                                 gk.nn.Conv2d(8, 8, 3, padding=1), gk.nn.Flatten(),
                                 gk.nn.Linear(8 * 8 * 8, 4))
        opt = gk.optim.SGD(model.parameters(), lr=0.05)
        x = gk.tensor(np.random.default_rng(0).standard_normal((6, 3, 8, 8)).astype(np.float32))
        y = gk.tensor(np.arange(6) % 4)
        with conv_select.conv_algorithm(setting):
            for _ in range(3):
                opt.zero_grad()
                loss = gk.nn.functional.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
        losses[setting] = loss.item()
    assert losses["benchmark"] == pytest.approx(losses["auto"], rel=1e-4)

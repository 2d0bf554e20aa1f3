"""The algorithm selector (which algorithm runs, forcing one, GRADKIT_CONV_ALGO) and the 1×1
GEMM path against PyTorch: values and gradients in float64 and float32, gradcheck."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch.nn.functional as TF

import gradkit as gk
from gradkit.autograd import gradcheck
from gradkit.ops import conv_select
from gradkit.ops.conv import _Geometry, conv2d
from oracle import check

F64, F32 = np.float64, np.float32


def _geometry(xs, ws, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    return _Geometry(xs, ws, stride, pads, dilation, groups)


@pytest.mark.parametrize("setting,geo_args,expected", [
    ("auto", ((8, 16, 8, 8), (32, 16, 1, 1)), "pointwise"),
    ("auto", ((8, 16, 8, 8), (32, 16, 1, 1), (2, 2)), "pointwise"),
    ("auto", ((8, 16, 16, 16), (16, 16, 3, 3), (1, 1), (1, 1, 1, 1)), "shifted"),
    ("auto", ((8, 32, 16, 16), (32, 32, 3, 3), (1, 1), (1, 1, 1, 1)), "shifted"),
    ("auto", ((8, 64, 16, 16), (64, 64, 3, 3), (1, 1), (1, 1, 1, 1)), "winograd4"),
    ("auto", ((8, 64, 11, 11), (64, 64, 5, 5), (1, 1), (2, 2, 2, 2)), "im2col"),
    ("auto", ((8, 64, 8, 8), (64, 64, 3, 3), (1, 1), (1, 1, 1, 1)), "winograd4"),
    ("auto", ((128, 64, 16, 16), (128, 64, 3, 3), (1, 1), (1, 1, 1, 1)), "winograd4"),
    ("auto", ((128, 32, 16, 16), (64, 32, 3, 3), (1, 1), (1, 1, 1, 1)), "shifted"),
    ("auto", ((128, 64, 8, 8), (64, 64, 3, 3), (2, 2), (1, 1, 1, 1)), "chwn"),
    ("winograd4", ((8, 16, 8, 8), (16, 16, 3, 3), (1, 1), (1, 1, 1, 1)), "winograd4"),
    ("winograd4", ((8, 16, 8, 8), (16, 16, 3, 3), (1, 1), (2, 2, 2, 2), (2, 2)), "im2col"),
    ("auto", ((8, 6, 14, 14), (16, 6, 5, 5)), "chwn"),
    ("auto", ((8, 32, 16, 16), (64, 32, 3, 3), (2, 2), (1, 1, 1, 1)), "chwn"),
    ("auto", ((8, 3, 16, 16), (16, 3, 3, 3), (1, 1), (1, 1, 1, 1)), "im2col"),
    ("auto", ((8, 16, 32, 32), (16, 16, 3, 3), (2, 2), (1, 1, 1, 1)), "im2col"),
    ("auto", ((8, 16, 16, 16), (16, 16, 5, 5), (1, 1), (2, 2, 2, 2)), "im2col"),
    ("auto", ((8, 16, 8, 8), (16, 8, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 2), "im2col"),
    ("shifted", ((8, 3, 8, 8), (16, 3, 5, 5), (1, 1), (2, 2, 2, 2), (2, 2)), "shifted"),
    ("shifted", ((8, 16, 8, 8), (16, 16, 3, 3), (2, 2), (1, 1, 1, 1)), "im2col"),
    ("auto", ((8, 16, 16, 16), (32, 16, 1, 1), (1, 1), (1, 1, 1, 1)), "shifted"),
    ("chwn", ((8, 16, 8, 8), (16, 8, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 2), "im2col"),
    ("auto", ((8, 16, 8, 8), (32, 8, 1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 2), "im2col"),
    ("winograd", ((8, 16, 8, 8), (16, 16, 3, 3), (1, 1), (1, 1, 1, 1)), "winograd"),
    ("winograd", ((8, 16, 8, 8), (16, 16, 3, 3), (2, 2), (1, 1, 1, 1)), "im2col"),
    ("winograd", ((8, 16, 9, 9), (16, 16, 3, 3), (1, 1), (2, 2, 2, 2), (2, 2)), "im2col"),
    ("winograd", ((8, 16, 8, 8), (16, 16, 5, 5)), "im2col"),
    ("im2col", ((8, 16, 8, 8), (32, 16, 1, 1)), "im2col"),
    ("pointwise", ((8, 16, 8, 8), (16, 16, 3, 3)), "im2col"),
])
def test_choice(setting, geo_args, expected):
    with conv_select.conv_algorithm(setting):
        assert conv_select.choose(_geometry(*geo_args)) == expected


@pytest.mark.parametrize("setting,forward,channels,expected", [
    ("auto", "shifted", 16, "shifted"), ("auto", "shifted", 32, "shifted"),
    ("auto", "shifted", 64, "im2col"), ("auto", "pointwise", 16, "pointwise"),
    ("auto", "im2col", 16, "im2col"), ("shifted", "shifted", 64, "shifted"),
    ("winograd", "winograd", 16, "winograd"),
])
def test_backward_choice(setting, forward, channels, expected):
    geo = _geometry((8, channels, 8, 8), (channels, channels, 3, 3), (1, 1), (1, 1, 1, 1))
    with conv_select.conv_algorithm(setting):
        assert conv_select.choose_backward(geo, forward) == expected


@pytest.mark.parametrize("batch,size,expected", [
    (8, 8, "chwn"), (63, 16, "im2col"), (64, 8, "winograd4"), (128, 16, "winograd4")])
def test_a_winograd4_forward_has_its_own_backward_from_64_images(batch, size, expected):
    geo = _geometry((batch, 64, size, size), (64, 64, 3, 3), (1, 1), (1, 1, 1, 1))
    with conv_select.conv_algorithm("auto"):
        assert conv_select.choose(geo) == "winograd4"
        assert conv_select.choose_backward(geo, "winograd4") == expected
    with conv_select.conv_algorithm("winograd4"):
        assert conv_select.choose_backward(geo, "winograd4") == "winograd4"


def test_context_manager_restores_the_setting_after_an_error():
    before = conv_select.get_conv_algorithm()
    with pytest.raises(RuntimeError), conv_select.conv_algorithm("winograd"):
        assert conv_select.get_conv_algorithm() == "winograd"
        raise RuntimeError
    assert conv_select.get_conv_algorithm() == before


def test_unknown_name_is_refused():
    with pytest.raises(ValueError, match=r"set_conv_algorithm: expected one of auto, im2col, "
                                         r"winograd, winograd4, pointwise, shifted, chwn, benchmark, "
                                         r"got .fft."):
        conv_select.set_conv_algorithm("fft")


@pytest.mark.parametrize("value,expected", [("winograd", "winograd"), ("fft", "fft")])
def test_environment_variable_sets_the_start_value(value, expected):
    code = "from gradkit.ops import conv_select; print(conv_select.get_conv_algorithm())"
    env = dict(os.environ, GRADKIT_CONV_ALGO=value)
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    if expected == "fft":  # not an algorithm: a warning that names them, and auto
        assert "GRADKIT_CONV_ALGO: expected one of auto, im2col" in run.stderr
        assert run.stdout.strip() == "auto"
    else:
        assert run.stdout.strip() == expected


# (id, input shape, out channels, stride)
POINTWISE = [
    ("stride1", (2, 6, 5, 7), 4, 1),
    ("stride2_odd", (2, 6, 5, 7), 8, 2),
    ("stride3_uncovered", (2, 3, 8, 7), 5, 3),
    ("stride_2_1", (1, 4, 6, 5), 3, (2, 1)),
    ("batch1_one_pixel", (1, 5, 1, 1), 2, 1),
]


@pytest.mark.parametrize("dtype,rtol", [(F64, None), (F32, 1e-4)])
@pytest.mark.parametrize("name,xs,cout,stride", POINTWISE, ids=[c[0] for c in POINTWISE])
def test_pointwise_matches_torch(name, xs, cout, stride, dtype, rtol):
    ws = (cout, xs[1], 1, 1)
    with conv_select.conv_algorithm("pointwise"):
        check([xs, ws, (cout,)], lambda x, w, b: TF.conv2d(x, w, b, stride=stride),
              lambda x, w, b: conv2d(x, w, b, stride=stride), dtype=dtype, rtol=rtol)


def test_pointwise_gradcheck():
    rng = np.random.default_rng(0)
    inputs = [gk.tensor(rng.standard_normal(s), requires_grad=True)
              for s in [(2, 3, 5, 4), (4, 3, 1, 1), (4,)]]
    with conv_select.conv_algorithm("pointwise"):
        assert gradcheck(lambda x, w, b: conv2d(x, w, b, stride=2), inputs)


def test_pointwise_equals_im2col():
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s) for s in [(3, 8, 7, 6), (5, 8, 1, 1), (5,)]]
    results = {}
    for algorithm in ("im2col", "pointwise"):
        x, w, b = (gk.tensor(a, requires_grad=True) for a in arrays)
        with conv_select.conv_algorithm(algorithm):
            out = conv2d(x, w, b, stride=2)
        (out * out).sum().backward()
        results[algorithm] = [out.numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()]
    for a, b in zip(results["im2col"], results["pointwise"]):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)

"""ResNet structure (shortcuts, stages) and stochastic depth (Huang et al. 2016)."""

import numpy as np

import gradkit as gk
from gradkit import models, nn
from gradkit.models.resnet import BasicBlock, ZeroPadShortcut


def blocks(model):
    return [m for m in model.modules() if isinstance(m, BasicBlock)]


def test_cifar_resnets_have_three_stages_of_n_blocks_with_option_a_shortcuts():
    for depth, n in ((20, 3), (32, 5), (56, 9)):
        model = models.get_model(f"resnet{depth}")
        assert [len(getattr(model, f"layer{i}")) for i in (1, 2, 3)] == [n] * 3
        shortcuts = [type(b.shortcut).__name__ for b in blocks(model)]
        assert shortcuts.count("ZeroPadShortcut") == 2
        assert shortcuts.count("Identity") == 3 * n - 2
        convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
        assert len(convs) + 1 == depth  # 6n + 1 convolutions and the fc layer
        assert [c.out_channels for c in convs[::2 * n]] == [16, 16, 32, 64]


def test_resnet18_uses_projection_shortcuts_and_a_3x3_stem():
    model = models.resnet18()
    assert model.conv1.kernel_size == (3, 3) and model.conv1.stride == (1, 1)
    assert [len(getattr(model, f"layer{i}")) for i in (1, 2, 3, 4)] == [2, 2, 2, 2]
    projections = [b.shortcut for b in blocks(model) if isinstance(b.shortcut, nn.Sequential)]
    assert len(projections) == 3
    assert all(p[0].kernel_size == (1, 1) and p[0].stride == (2, 2) for p in projections)
    with gk.no_grad():
        assert model.layer4(model.layer3(model.layer2(gk.zeros(1, 64, 32, 32)))).shape == (
            1, 512, 4, 4)


def test_zero_pad_shortcut_subsamples_and_appends_zero_channels():
    x = gk.randn(2, 3, 5, 5, requires_grad=True)
    out = ZeroPadShortcut(3, 8, 2)(x)
    assert out.shape == (2, 8, 3, 3)
    np.testing.assert_array_equal(out.numpy()[:, :3], x.numpy()[:, :, ::2, ::2])
    np.testing.assert_array_equal(out.numpy()[:, 3:], 0)
    out.sum().backward()
    expected = np.zeros((2, 3, 5, 5), np.float32)
    expected[:, :, ::2, ::2] = 1
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_survival_probabilities_decay_linearly_to_one_minus_p():
    model = models.resnet56(stochastic_depth=0.5)
    survival = [b.survival for b in blocks(model)]
    np.testing.assert_allclose(survival, 1 - 0.5 * np.arange(1, 28) / 27)
    assert all(b.survival == 1.0 for b in blocks(models.resnet20()))


def _count_branch_calls(model):
    calls = {}
    for i, block in enumerate(blocks(model)):
        calls[i] = 0
        block.conv1.register_forward_hook(
            lambda module, args, out, i=i: calls.__setitem__(i, calls[i] + 1))
    return calls


def test_stochastic_depth_drops_branches_at_their_rate_in_training():
    gk.manual_seed(0)
    model = models.resnet20(stochastic_depth=0.8).train()
    calls = _count_branch_calls(model)
    trials = 120
    x = gk.randn(2, 3, 4, 4)
    with gk.no_grad():
        for _ in range(trials):
            model(x)
    rate = np.array([calls[i] for i in range(9)]) / trials
    survival = np.array([b.survival for b in blocks(model)])
    # binomial standard deviation ≤ 0.046 for 120 trials: 4σ
    np.testing.assert_allclose(rate, survival, atol=0.18)
    assert rate[-1] < 0.5 and rate[0] > 0.8


def test_a_dropped_block_is_relu_of_its_shortcut_and_costs_nothing():
    gk.manual_seed(0)
    model = models.resnet20(stochastic_depth=1.0).train()  # the last block never survives
    last = blocks(model)[-1]
    assert last.survival == 0.0
    calls = _count_branch_calls(model)
    x = gk.randn(2, 64, 4, 4)
    np.testing.assert_array_equal(last(x).numpy(), np.maximum(x.numpy(), 0))
    assert calls[8] == 0


def test_eval_is_deterministic_and_scales_branches_by_survival():
    gk.manual_seed(0)
    model = models.resnet20(stochastic_depth=0.5)
    x = gk.randn(2, 3, 8, 8)
    with gk.no_grad():
        model.train()
        train_outputs = {model(x).numpy().tobytes() for _ in range(8)}
        model.eval()
        first, second = model(x).numpy(), model(x).numpy()
    assert len(train_outputs) > 1  # different branches dropped from pass to pass
    np.testing.assert_array_equal(first, second)
    block = blocks(model)[4]
    h = gk.randn(2, 32, 4, 4)
    with gk.no_grad():
        branch = block.bn2(block.conv2(block.bn1(block.conv1(h)).relu()))
        expected = (h + block.survival * branch).relu()
        np.testing.assert_allclose(block(h).numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)


def test_a_dropped_branch_gets_no_gradient_and_the_kept_ones_do():
    gk.manual_seed(3)
    model = models.resnet20(stochastic_depth=0.8).train()
    calls = _count_branch_calls(model)
    model(gk.randn(2, 3, 8, 8)).sum().backward()
    kept = [i for i in range(9) if calls[i]]
    assert 0 < len(kept) < 9
    for i, block in enumerate(blocks(model)):
        grads = [p.grad for p in block.parameters()]
        if i in kept:
            assert all(g is not None and np.abs(g.numpy()).max() > 0 for g in grads)
        else:
            assert all(g is None for g in grads)

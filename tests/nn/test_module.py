"""Module, Parameter and the containers: registration, traversal, modes, hooks, state_dict
(PyTorch's keys, loading PyTorch's arrays and back), repr."""

import copy

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn
from nn.torch_ref import from_torch_state, random_array, to_torch_state


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.scale = nn.Parameter(gk.ones(3))
        self.register_buffer("step", gk.zeros(1))
        self.register_buffer("cache", gk.zeros(2), persistent=False)

    def forward(self, x):
        return self.bn(self.fc(x)) * self.scale


class TorchBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        self.bn = torch.nn.BatchNorm1d(3)
        self.scale = torch.nn.Parameter(torch.ones(3))
        self.register_buffer("step", torch.zeros(1))
        self.register_buffer("cache", torch.zeros(2), persistent=False)

    def forward(self, x):
        return self.bn(self.fc(x)) * self.scale


def test_parameter_is_a_leaf_that_requires_grad_and_shares_memory():
    t = gk.zeros(3)
    p = nn.Parameter(t)
    assert isinstance(p, gk.Tensor) and p.requires_grad and p.is_leaf
    p.data[0] = 5.0
    assert t.numpy()[0] == 5.0
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:\ntensor(")


def test_registration_names_match_pytorch():
    g, t = Block(), TorchBlock()
    assert [n for n, _ in g.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in g.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in g.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in g.named_children()] == [n for n, _ in t.named_children()]
    assert list(g.state_dict()) == list(t.state_dict())
    assert len(list(g.parameters())) == 5 and len(list(g.buffers())) == 5
    assert [type(m).__name__ for m in g.modules()] == ["Block", "Linear", "BatchNorm1d"]


def test_sequential_state_dict_keys_match_pytorch():
    g = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Sequential(nn.Linear(4, 2),
                                                                nn.BatchNorm1d(2)))
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(),
                            torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.BatchNorm1d(2)))
    assert list(g.state_dict()) == list(t.state_dict())
    assert "2.1.num_batches_tracked" in g.state_dict()
    assert g.state_dict()["2.1.num_batches_tracked"].dtype == np.int64


def test_setattr_routes_and_refuses_bad_assignments():
    m = nn.Module()
    m.w = nn.Parameter(gk.zeros(2))
    m.child = nn.Linear(2, 2)
    m.plain = 3
    assert "w" in m._parameters and "child" in m._modules and m.plain == 3
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'w'"):
        m.w = gk.zeros(2)
    m.w = None
    assert m.w is None and list(m.named_parameters())[0][0] == "child.weight"
    del m.child
    assert not hasattr(m, "child")
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("plain", gk.zeros(1))
    with pytest.raises(KeyError, match="be empty or contain"):
        m.register_parameter("a.b", None)

    class Forgot(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Forgot()


def test_shared_parameters_are_listed_once():
    fc = nn.Linear(2, 2)
    m = nn.Sequential(fc, fc)
    assert len(list(m.parameters())) == 2
    assert list(m.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_train_eval_propagate():
    m = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.BatchNorm1d(2)))
    assert m.eval() is m
    assert all(not x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    with pytest.raises(ValueError):
        m.train("no")


def test_zero_grad_apply_requires_grad():
    m = nn.Linear(3, 2)
    m(gk.randn(4, 3)).sum().backward()
    m.zero_grad(set_to_none=False)
    assert np.all(m.weight.grad.numpy() == 0)
    m.zero_grad()
    assert m.weight.grad is None
    seen = []
    nn.Sequential(m, nn.ReLU()).apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "ReLU", "Sequential"]
    m.requires_grad_(False)
    assert not m.weight.requires_grad


def test_to_double_casts_in_place_and_keeps_identity():
    m = nn.BatchNorm1d(3)
    w = m.weight
    m.double()
    assert m.weight is w and w.dtype == np.float64 and m.running_mean.dtype == np.float64
    assert m.num_batches_tracked.dtype == np.int64
    m.to(gk.float32)
    assert w.dtype == np.float32
    assert m.to("cpu") is m


def test_hooks_see_and_replace_values():
    m = nn.Linear(3, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: calls.append(("pre", args[0].shape)))
    h2 = m.register_forward_hook(lambda mod, args, out: out * 0)
    x = gk.randn(4, 3)
    assert np.all(m(x).numpy() == 0) and calls == [("pre", (4, 3))]
    h2.remove()
    h1.remove()
    assert not np.all(m(x).numpy() == 0) and len(calls) == 1
    h3 = m.register_forward_pre_hook(lambda mod, args: gk.zeros(4, 3))
    np.testing.assert_allclose(m(x).numpy(), np.broadcast_to(m.bias.numpy(), (4, 2)))
    h3.remove()


def test_load_pytorch_state_dict_gives_same_outputs_and_back():
    torch.manual_seed(0)
    t = TorchBlock().double()
    with torch.no_grad():
        t.bn.running_mean.uniform_(-1, 1)
        t.bn.running_var.uniform_(0.5, 2)
        t.scale.uniform_(0.5, 1.5)
        t.bn.num_batches_tracked.fill_(7)
    g = Block().double()
    result = g.load_state_dict(from_torch_state(t))
    assert repr(result) == "<All keys matched successfully>"
    assert int(g.bn.num_batches_tracked.item()) == 7
    x = random_array((5, 4))
    t.eval(), g.eval()
    np.testing.assert_allclose(g(gk.tensor(x)).numpy(), t(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12)
    g2 = Block().double()
    g2.load_state_dict(g.state_dict())
    t2 = TorchBlock().double()
    t2.load_state_dict(to_torch_state(g2))
    t2.eval(), g2.eval()
    np.testing.assert_allclose(g2(gk.tensor(x)).numpy(), t2(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12)


def test_load_state_dict_casts_dtype_and_copies():
    g = nn.Linear(2, 2)
    sd = {"weight": np.ones((2, 2)), "bias": np.zeros(2)}
    g.load_state_dict(sd)
    assert g.weight.dtype == np.float32 and np.all(g.weight.numpy() == 1)
    sd["weight"][0, 0] = 9
    assert g.weight.numpy()[0, 0] == 1


def test_load_state_dict_errors_like_pytorch():
    g = nn.Linear(2, 3)
    sd = {"weight": np.zeros((3, 2)), "extra": np.zeros(1)}
    with pytest.raises(RuntimeError) as err:
        g.load_state_dict(sd)
    msg = str(err.value)
    assert msg.startswith("Error(s) in loading state_dict for Linear:")
    assert 'Missing key(s) in state_dict: "bias".' in msg
    assert 'Unexpected key(s) in state_dict: "extra".' in msg
    before = g.weight.numpy().copy()
    result = g.load_state_dict({"weight": np.ones((3, 2)), "extra": np.zeros(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert np.all(g.weight.numpy() == 1) and not np.all(before == 1)
    with pytest.raises(RuntimeError, match="size mismatch for weight: copying a param with "
                                           r"shape \(2, 2\) from checkpoint, the shape in "
                                           r"current model is \(3, 2\)"):
        g.load_state_dict({"weight": np.zeros((2, 2)), "bias": np.zeros(3)}, strict=False)


def test_state_dict_shares_memory_and_keep_vars():
    g = nn.Linear(2, 2)
    sd = g.state_dict()
    assert not sd["weight"].requires_grad
    sd["weight"].numpy()[0, 0] = 42
    assert g.weight.numpy()[0, 0] == 42
    assert g.state_dict(keep_vars=True)["weight"] is g.weight


def test_load_state_dict_assign_replaces_tensors():
    g = nn.Linear(2, 2)
    old = g.weight
    g.load_state_dict({"weight": np.ones((2, 2), np.float32), "bias": np.zeros(2)},
                      assign=True)
    assert g.weight is not old and isinstance(g.weight, nn.Parameter)
    assert g.weight.requires_grad and np.all(g.weight.numpy() == 1)


def test_repr_tree_with_parameter_counts():
    m = nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Sequential(nn.Linear(100, 3)))
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=100, bias=True)  # 300 params\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Linear(in_features=100, out_features=3, bias=True)  # 303 params\n"
        "  )  # 303 params\n"
        ")  # 603 params")
    assert repr(nn.Linear(3, 4)) == repr(torch.nn.Linear(3, 4))
    assert repr(nn.BatchNorm2d(8)) == repr(torch.nn.BatchNorm2d(8))
    assert repr(nn.Dropout(0.3)) == repr(torch.nn.Dropout(0.3))


def test_sequential_indexing_slicing_len_append_delete():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    s = nn.Sequential(*layers)
    assert len(s) == 3 and s[0] is layers[0] and s[-1] is layers[2]
    head = s[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[1] is layers[1]
    assert list(s) == layers
    s.append(nn.Sigmoid())
    assert len(s) == 4 and list(s.state_dict()) == ["0.weight", "0.bias", "2.weight",
                                                    "2.bias"]
    del s[1]
    assert [type(m).__name__ for m in s] == ["Linear", "Linear", "Sigmoid"]
    assert list(s.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    with pytest.raises(IndexError):
        s[5]
    x = gk.randn(4, 2)
    np.testing.assert_allclose(s(x).numpy(), s[2](s[1](s[0](x))).numpy())
    named = nn.Sequential(__import__("collections").OrderedDict(conv=nn.Identity(),
                                                                  act=nn.ReLU()))
    assert list(dict(named.named_children())) == ["conv", "act"]


def test_module_list_and_dict_register_their_entries():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    ml.append(nn.Linear(2, 1))
    ml.insert(0, nn.ReLU())
    assert [type(m).__name__ for m in ml] == ["ReLU", "Linear", "Linear", "Linear", "Linear"]
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    del ml[0]
    assert list(dict(ml.named_children())) == ["0", "1", "2", "3"]
    md = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.ReLU()})
    assert "a" in md and list(md.keys()) == ["a", "b"] and len(md) == 2
    assert list(md.state_dict()) == ["a.weight", "a.bias"]
    md["c"] = nn.Tanh()
    assert md.pop("b").__class__.__name__ == "ReLU" and list(md) == ["a", "c"]


def test_identity_and_deepcopy():
    x = gk.randn(2, 3)
    assert nn.Identity(54, unused="x")(x) is x
    m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    c = copy.deepcopy(m)
    assert isinstance(c[0].weight, nn.Parameter) and c[0].weight is not m[0].weight
    np.testing.assert_array_equal(c[0].weight.numpy(), m[0].weight.numpy())
    c[0].weight.data.numpy()[...] = 0
    assert not np.all(m[0].weight.numpy() == 0)


def test_forward_not_implemented_and_get_submodule():
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(1)
    m = nn.Sequential(nn.Sequential(nn.Linear(2, 2)))
    assert m.get_submodule("0.0") is m[0][0]
    with pytest.raises(AttributeError, match="no submodule '1'"):
        m.get_submodule("0.1")

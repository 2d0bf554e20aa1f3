"""nn.ParameterList and nn.ParameterDict against PyTorch's: registration (parameters(),
named_parameters(), state_dict keys), the list and dict operations, reprs, load_state_dict,
and gradients reaching the entries."""

import collections

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn


def _arrays(*shapes, dtype=np.float32):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


class Owner(nn.Module):
    def __init__(self, arrays):
        super().__init__()
        self.scales = nn.ParameterList([nn.Parameter(gk.tensor(a)) for a in arrays])
        self.gains = nn.ParameterDict({"first": nn.Parameter(gk.tensor(arrays[0])),
                                       "second": gk.tensor(arrays[-1])})

    def forward(self, x):
        for p in self.scales:
            x = x * p.sum()
        return x * self.gains["first"].sum() + self.gains["second"].sum()


class TorchOwner(torch.nn.Module):
    def __init__(self, arrays):
        super().__init__()
        self.scales = torch.nn.ParameterList([torch.nn.Parameter(torch.tensor(a))
                                              for a in arrays])
        self.gains = torch.nn.ParameterDict({"first": torch.nn.Parameter(torch.tensor(arrays[0])),
                                             "second": torch.tensor(arrays[-1])})

    def forward(self, x):
        for p in self.scales:
            x = x * p.sum()
        return x * self.gains["first"].sum() + self.gains["second"].sum()


def test_parameters_and_state_dict_keys_match_torch():
    arrays = _arrays((2, 3), (4,), (1,))
    g, t = Owner(arrays), TorchOwner(arrays)
    assert [k for k, _ in g.named_parameters()] == [k for k, _ in t.named_parameters()]
    assert list(g.state_dict()) == list(t.state_dict())
    assert len(list(g.parameters())) == len(list(t.parameters())) == 5
    for (_, a), (_, b) in zip(g.named_parameters(), t.named_parameters()):
        np.testing.assert_array_equal(a.numpy(), b.detach().numpy())
        assert a.requires_grad and isinstance(a, nn.Parameter)


def test_gradients_reach_every_entry():
    arrays = _arrays((2, 3), (4,), (1,), dtype=np.float64)
    g, t = Owner(arrays), TorchOwner(arrays)
    x = np.linspace(0.5, 1.5, 5)
    g(gk.tensor(x)).sum().backward()
    t(torch.tensor(x)).sum().backward()
    tp = dict(t.named_parameters())
    for name, p in g.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), rtol=1e-12)


def test_load_state_dict_from_torch():
    arrays = _arrays((2, 3), (4,))
    g, t = Owner(arrays), TorchOwner(_arrays((2, 3), (4,), dtype=np.float32)[::-1][::-1])
    for p in t.parameters():
        p.data.mul_(3)
    g.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    for (_, a), (_, b) in zip(g.named_parameters(), t.named_parameters()):
        np.testing.assert_array_equal(a.numpy(), b.detach().numpy())


def test_parameter_list_operations():
    arrays = _arrays((2,), (3,), (4,), (5,))
    g = nn.ParameterList()
    t = torch.nn.ParameterList()
    assert len(g) == len(t) == 0 and repr(g) == repr(t) == "ParameterList()"
    g.append(gk.tensor(arrays[0]))
    t.append(torch.tensor(arrays[0]))
    assert isinstance(g[0], nn.Parameter) and g[0].requires_grad
    assert g.extend([gk.tensor(a) for a in arrays[1:3]]) is g
    t.extend([torch.tensor(a) for a in arrays[1:3]])
    g += [nn.Parameter(gk.tensor(arrays[3]))]
    t += [torch.nn.Parameter(torch.tensor(arrays[3]))]
    assert len(g) == len(t) == 4
    assert [p.shape for p in g] == [tuple(p.shape) for p in t]
    assert g[-1].shape == (5,) and g[1].shape == (3,)
    sliced = g[1:3]
    assert isinstance(sliced, nn.ParameterList) and [p.shape for p in sliced] == [(3,), (4,)]
    assert sliced[0] is g[1]
    replacement = nn.Parameter(gk.zeros(7))
    g[0] = replacement
    assert g[0] is replacement and list(g.state_dict()) == ["0", "1", "2", "3"]
    with pytest.raises(IndexError):
        t[4]
    with pytest.raises(IndexError):
        g[4]
    with pytest.raises(TypeError):
        g.extend(gk.zeros(3))


def test_parameter_list_keeps_other_objects_as_torch_does():
    g, t = nn.ParameterList([gk.zeros(2)]), torch.nn.ParameterList([torch.zeros(2)])
    g.append(5)
    t.append(5)
    assert g[1] == 5 and len(g) == 2
    assert list(g.state_dict()) == list(t.state_dict()) == ["0"]
    assert repr(g).splitlines()[2] == repr(t).splitlines()[2] == "    (1): Object of type: int"


def test_a_plain_dict_is_sorted_an_ordered_one_kept_as_torch_does():
    pairs = [("z", gk.zeros(1)), ("a", gk.zeros(1))]
    assert list(nn.ParameterDict(dict(pairs))) == ["a", "z"]
    assert list(nn.ParameterDict(collections.OrderedDict(pairs))) == ["z", "a"]
    assert list(nn.ParameterDict(pairs)) == ["z", "a"]
    t = [("z", torch.zeros(1)), ("a", torch.zeros(1))]
    assert list(torch.nn.ParameterDict(dict(t))) == ["a", "z"]
    assert list(torch.nn.ParameterDict(t)) == ["z", "a"]


def test_replacing_an_entry_keeps_its_place():
    g = nn.ParameterDict(collections.OrderedDict([("a", gk.zeros(1)), ("b", gk.zeros(1))]))
    g["a"] = gk.ones(2)
    assert list(g) == list(g.state_dict()) == ["a", "b"]


def test_reprs_follow_torch():
    arrays = _arrays((2, 3), (4,))
    g = nn.ParameterList([gk.tensor(a) for a in arrays] + [gk.zeros(2, dtype=gk.float64)])
    t = torch.nn.ParameterList([torch.tensor(a) for a in arrays]
                               + [torch.zeros(2, dtype=torch.float64)])
    assert repr(g) == repr(t).replace("torch.", "gradkit.")
    gd = nn.ParameterDict({"w": gk.tensor(arrays[0]), "b": gk.zeros(4, dtype=gk.float64)})
    td = torch.nn.ParameterDict({"w": torch.tensor(arrays[0]),
                                 "b": torch.zeros(4, dtype=torch.float64)})
    assert repr(gd) == repr(td).replace("torch.", "gradkit.")
    assert list(gd) == list(td) == ["b", "w"]
    assert repr(nn.ParameterDict()) == repr(torch.nn.ParameterDict())
    owner, towner = nn.Module(), torch.nn.Module()
    owner.p, towner.p = g, t
    assert repr(owner).splitlines()[1:-1][:-1] == [
        s.replace("torch.", "gradkit.") for s in repr(towner).splitlines()[1:-1][:-1]]


def test_parameter_dict_operations():
    a, b, c = _arrays((2,), (3,), (4,))
    g = nn.ParameterDict(collections.OrderedDict([("a", gk.tensor(a)), ("b", gk.tensor(b))]))
    t = torch.nn.ParameterDict(collections.OrderedDict([("a", torch.tensor(a)),
                                                        ("b", torch.tensor(b))]))
    g["c"] = nn.Parameter(gk.tensor(c))
    t["c"] = torch.nn.Parameter(torch.tensor(c))
    assert list(g) == list(t) == ["a", "b", "c"]
    assert list(g.keys()) == list(t.keys()) and len(g) == len(t) == 3
    assert [k for k, _ in g.items()] == [k for k, _ in t.items()]
    assert [v.shape for v in g.values()] == [tuple(v.shape) for v in t.values()]
    assert "b" in g and "z" not in g and g.get("z") is None
    assert isinstance(g["a"], nn.Parameter) and g["a"].requires_grad
    assert list(g.state_dict()) == list(t.state_dict())
    popped = g.pop("b")
    t.pop("b")
    assert popped.shape == (3,) and list(g) == list(t) == ["a", "c"]
    assert list(g.state_dict()) == list(t.state_dict()) == ["a", "c"]
    del g["a"]
    del t["a"]
    assert list(g) == list(t) == ["c"]
    g.update([("d", gk.zeros(1))])
    t.update([("d", torch.zeros(1))])
    assert list(g) == list(t) == ["c", "d"]
    assert g.setdefault("e", gk.ones(2)).shape == (2,)
    assert list(reversed(g)) == ["e", "d", "c"]
    assert g.popitem()[0] == "e"
    copied = g.copy()
    assert list(copied) == ["c", "d"] and copied["c"] is g["c"]
    with pytest.raises(AttributeError):
        t["zz"]
    with pytest.raises(AttributeError):
        g["zz"]
    g.clear()
    assert len(g) == 0 and list(g.parameters()) == []


def test_optimizer_sees_list_and_dict_parameters():
    g = Owner(_arrays((2,), (3,), dtype=np.float64))
    opt = gk.optim.SGD(g.parameters(), lr=0.1)
    before = [p.numpy().copy() for p in g.parameters()]
    g(gk.tensor(np.ones(3))).sum().backward()
    opt.step()
    assert all(not np.array_equal(b, p.numpy()) for b, p in zip(before, g.parameters()))

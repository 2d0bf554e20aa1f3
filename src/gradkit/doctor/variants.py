"""Variants of an MLP for the doctor's model-bias test: the same architecture freshly
initialized, deeper, wider or shallower, in place of the user's ``nn.Sequential``.

    name, seq = find_mlp(model)                 # the Sequential that holds every parameter
    deeper = with_mlp(setup, name, rebuilt(seq, "deeper"))
    opt = optimizer_like(setup, deeper)         # the user's optimizer class and settings

An MLP here is an ``nn.Sequential`` of Linear layers, activations, BatchNorm1d, Dropout,
Flatten and Identity (gradkit.models.mlp's ``layers``, or a model that is such a Sequential)
holding all of the model's parameters. New layers take nn.Linear's default initialization;
call inside ``gradkit.random.fork_rng`` to leave the global generator as it was.
"""

import copy
import inspect

from gradkit import nn

_ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.Softplus, nn.Sigmoid, nn.Tanh)
_MLP_PARTS = (nn.Linear, nn.BatchNorm1d, nn.Dropout, nn.Flatten, nn.Identity) + _ACTIVATIONS


def find_mlp(model):
    """(name, Sequential) of the nn.Sequential MLP that holds all of ``model``'s parameters
    (Linear layers, activations, BatchNorm1d, Dropout, Flatten), or None."""
    total = sum(p.numel() for p in model.parameters())
    for name, seq in model.named_modules():
        parts = list(seq) if isinstance(seq, nn.Sequential) else []
        if (any(type(k) is nn.Linear for k in parts)
                and all(type(k) in _MLP_PARTS for k in parts)
                and sum(p.numel() for p in seq.parameters()) == total):
            return name, seq
    return None


def rebuilt(seq, change=None):
    """A freshly initialized copy of the MLP ``seq``: the same (``change`` None), "deeper"
    (one more hidden layer, as wide as the widest, before the output layer), "wider" (twice
    the hidden widths) or "shallower" (its last hidden layer removed)."""
    parts = list(seq)
    linear = [i for i, k in enumerate(parts) if type(k) is nn.Linear]
    if change == "shallower":
        n_in = parts[linear[-2]].in_features
        parts = parts[:linear[-2]] + [nn.Linear(n_in, parts[linear[-1]].out_features)] \
            + parts[linear[-1] + 1:]
        return rebuilt(nn.Sequential(*parts))
    act = next((type(k) for k in parts if type(k) in _ACTIVATIONS), nn.ReLU)
    widths = [parts[i].out_features for i in linear[:-1]]
    wide = 2 if change == "wider" else 1
    out = []
    for i, k in enumerate(parts):
        if type(k) is nn.Linear:
            n_in = k.in_features * (wide if i != linear[0] else 1)
            n_out = k.out_features * (wide if i != linear[-1] else 1)
            if change == "deeper" and i == linear[-1]:
                width = max(widths) if widths else 4 * max(n_in, n_out)
                out += [nn.Linear(n_in, width), act()]
                n_in = width
            out.append(nn.Linear(n_in, n_out, bias=k.bias is not None))
        elif type(k) is nn.BatchNorm1d:
            out.append(nn.BatchNorm1d(k.num_features * wide))
        else:
            out.append(copy.deepcopy(k))
    return nn.Sequential(*out)


def with_mlp(setup, name, seq):
    """A copy of the user's model whose MLP ``name`` is replaced by ``seq``."""
    if not name:
        return seq
    model = setup.copy_model()
    parent, _, attr = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, attr, seq)
    return model


def optimizer_kwargs(cls, options):
    """The entries of ``options`` (hyper-parameters) that ``cls``'s constructor takes."""
    accepted = inspect.signature(cls.__init__).parameters
    return {k: v for k, v in options.items() if k in accepted}


def optimizer_like(setup, model):
    """The user's optimizer class with its first group's hyper-parameters, for a model whose
    parameters are not the user's (a variant)."""
    base = setup.optimizer_for(setup.copy_model())
    group = base.param_groups[0]
    return type(base)(model.parameters(), **optimizer_kwargs(
        type(base), {k: group[k] for k in base.defaults if k in group}))

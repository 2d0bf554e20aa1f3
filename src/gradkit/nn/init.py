"""Weight initialization (PyTorch's ``torch.nn.init`` names), in place and without gradient.

For a weight of shape (out, in, *kernel), fan_in = in·∏kernel and fan_out = out·∏kernel (the
number of inputs feeding one output unit, and of outputs one input feeds). The scales:

    LeCun          std = 1/√fan_in                         (lecun_normal_)
    Xavier/Glorot  std = gain·√(2/(fan_in + fan_out)),      bound = gain·√(6/(fan_in + fan_out))
    He/Kaiming     std = gain/√fan,  gain = √2 for ReLU,    bound = gain·√(3/fan)

keep the variance of activations (fan_in) or of gradients (fan_out) constant through layers.
gradkit's Linear and Conv layers default to ``kaiming_normal_(w, mode='fan_in',
nonlinearity='relu')`` and zero biases, as the course notes recommend for ReLU networks;
PyTorch's default is kaiming_uniform_ with a=√5 (i.e. U(±1/√fan_in)) for weights and
U(±1/√fan_in) for biases — call ``reset_parameters`` of your own or these functions to get it.

Every function draws from gradkit's shared generator (``gk.manual_seed``) unless given
``generator`` (a numpy.random.Generator), writes into the tensor and returns it.
"""

import math
import warnings

import numpy as np

from gradkit import random
from gradkit.autograd.engine import note_change


def _write(tensor, values):
    tensor._data[...] = values
    note_change(tensor._vc)  # an in-place change, as every init_ in PyTorch
    return tensor


def calculate_gain(nonlinearity, param=None):
    """The factor that keeps activation variance at 1 through a layer with this nonlinearity:
    1 for linear/conv/sigmoid, 5/3 for tanh, √2 for relu, √(2/(1+a²)) for leaky_relu (a = param,
    default 0.01), 3/4 for selu."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                        "conv_transpose2d", "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"negative_slope {slope} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight (out, in, *kernel): in·∏kernel and out·∏kernel."""
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (got shape {tuple(tensor.shape)})")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with draws from U[a, b) (the notes' "uniform ±1/n" is ``uniform_(w, -1/n, 1/n)``)."""
    return _write(tensor, random.uniform(tensor.shape, a, b, tensor.dtype, generator))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with draws from N(mean, std²) (the notes' small random init is std=0.01)."""
    return _write(tensor, random.normal(tensor.shape, mean, std, tensor.dtype, generator))


def constant_(tensor, val):
    return _write(tensor, val)


def zeros_(tensor):
    return _write(tensor, 0)


def ones_(tensor):
    return _write(tensor, 1)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(−a, a) with a = gain·√(6/(fan_in + fan_out)) (Glorot & Bengio 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std²) with std = gain·√(2/(fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _zero_element(tensor):
    """True (after PyTorch's warning) for a weight with no elements, e.g. of Linear(0, 3),
    whose fan would be 0: the initializations that divide by the fan leave it as it is."""
    if tensor.numel():
        return False
    warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
    return True


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(−bound, bound) with bound = gain·√(3/fan), gain = calculate_gain(nonlinearity, a)
    (He et al. 2015). The defaults are PyTorch's (leaky_relu with a=0, i.e. gain √2)."""
    if _zero_element(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std²) with std = gain/√fan, gain = calculate_gain(nonlinearity, a) (He et al. 2015)."""
    if _zero_element(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def lecun_normal_(tensor, generator=None):
    """N(0, 1/fan_in): the notes' "calibrate the variances with 1/√n" (not in torch.nn.init)."""
    if _zero_element(tensor):
        return tensor
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, 1.0 / math.sqrt(fan_in), generator)


def orthogonal_(tensor, gain=1.0, generator=None):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al. 2013): the weight flattened to
    (rows, cols) has orthonormal rows or columns. Q of the QR factorization of a Gaussian
    matrix, its columns' signs fixed by diag(R) so that Q is uniformly distributed."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = random.normal((rows, cols), dtype=np.float64, generator=generator)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _write(tensor, (gain * q).reshape(tensor.shape))


def sparse_(tensor, sparsity=None, std=0.01, generator=None, *, connections=None):
    """A sparse 2-D weight (out, in) with N(0, std²) nonzeros. Two ways to say how sparse:

    - ``sparsity`` (PyTorch's sparse_): in every column, ceil(sparsity·out) entries are 0;
    - ``connections`` (the notes' sparse init, Martens 2010): every unit (row) keeps exactly
      this many nonzero incoming weights, chosen at random, e.g. ``connections=10``; so the
      scale of a unit's input does not grow with the layer width."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    if (sparsity is None) == (connections is None):
        raise ValueError("sparse_: give exactly one of sparsity (fraction of zeros per column) "
                         "and connections (nonzero inputs per unit)")
    rows, cols = tensor.shape
    rng = random.default_generator if generator is None else generator
    values = random.normal((rows, cols), 0.0, std, tensor.dtype, rng)
    if connections is not None:
        if not 0 <= connections <= cols:
            raise ValueError(f"sparse_: connections={connections} must be in [0, {cols}] for "
                             f"a weight of shape {tuple(tensor.shape)}")
        rank = rng.random((rows, cols)).argsort(axis=1).argsort(axis=1)
        values[rank >= connections] = 0
    else:
        zeros_per_column = math.ceil(sparsity * rows)
        rank = rng.random((rows, cols)).argsort(axis=0).argsort(axis=0)
        values[rank < zeros_per_column] = 0
    return _write(tensor, values)


# ----- PyTorch's default initialization, layer by layer -----

def _fan_in_uniform(weight, bias, fan_in=None, generator=None):
    """torch's Linear/Conv reset_parameters: kaiming_uniform_(w, a=√5), i.e. U(±1/√fan_in),
    and the bias U(±1/√fan_in) (0 when fan_in is 0)."""
    kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    if bias is not None:
        fan_in = _calculate_fan_in_and_fan_out(weight)[0] if fan_in is None else fan_in
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound, generator)


def _linear_default(m, generator):
    _fan_in_uniform(m.weight, m.bias, generator=generator)


def _bilinear_default(m, generator):
    bound = 1 / math.sqrt(m.weight.shape[1])
    uniform_(m.weight, -bound, bound, generator)
    if m.bias is not None:
        uniform_(m.bias, -bound, bound, generator)


def _norm_default(m, generator):
    if getattr(m, "running_mean", None) is not None:
        m.reset_running_stats()
    if getattr(m, "weight", None) is not None:
        ones_(m.weight)
    if getattr(m, "bias", None) is not None:
        zeros_(m.bias)


def _embedding_default(m, generator):
    normal_(m.weight, generator=generator)
    if m.padding_idx is not None:
        m.weight._data[m.padding_idx] = 0


def _recurrent_default(m, generator):
    bound = 1 / math.sqrt(m.hidden_size) if m.hidden_size > 0 else 0
    for p in m.parameters(recurse=False):
        uniform_(p, -bound, bound, generator)


def _attention_default(m, generator):
    for name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight"):
        if getattr(m, name, None) is not None:
            xavier_uniform_(getattr(m, name), generator=generator)
    if getattr(m, "in_proj_bias", None) is not None:
        zeros_(m.in_proj_bias)
        if getattr(m.out_proj, "bias", None) is not None:
            zeros_(m.out_proj.bias)
    for name in ("bias_k", "bias_v"):
        if getattr(m, name, None) is not None:
            xavier_normal_(getattr(m, name), generator=generator)


def _transformer_default(m, generator):
    for p in m.parameters():
        if p.ndim > 1:
            xavier_uniform_(p, generator=generator)


def _prelu_default(m, generator):
    constant_(m.weight, m.init)


_DEFAULTS = [  # (layer names looked up in gradkit.nn, PyTorch's reset for them)
    (("Bilinear",), _bilinear_default),
    (("Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
      "ConvTranspose3d"), _linear_default),
    (("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d",
      "InstanceNorm3d", "LayerNorm", "GroupNorm", "RMSNorm"), _norm_default),
    (("Embedding",), _embedding_default),
    (("RNN", "GRU", "LSTM", "RNNCell", "GRUCell", "LSTMCell"), _recurrent_default),
    (("MultiheadAttention",), _attention_default),
    (("Transformer",), _transformer_default),
    (("PReLU",), _prelu_default),
]


def torch_default_(module, generator=None):
    """Re-initialise every submodule's parameters as PyTorch's own ``reset_parameters`` would
    for its layer type, and return the module (draws from gradkit.random, so ``gk.manual_seed``
    makes it reproducible):

        Linear, Conv*d, ConvTranspose*d   w ~ U(±1/√fan_in) (kaiming_uniform_, a=√5),
                                          b ~ U(±1/√fan_in), fan_in = w.shape[1]·∏kernel
        Bilinear                          w, b ~ U(±1/√in1_features)
        BatchNorm/InstanceNorm/LayerNorm/GroupNorm/RMSNorm   γ = 1, β = 0 (running stats
                                          reset)
        Embedding                         N(0, 1), the padding_idx row 0
        RNN/GRU/LSTM and their cells      every parameter ~ U(±1/√hidden_size)
        MultiheadAttention                xavier_uniform_ in-projections, zero biases,
                                          xavier_normal_ bias_k/bias_v
        Transformer                       xavier_uniform_ every parameter of ndim > 1
        PReLU                             its ``init`` (0.25)

    Children are done before their parents, so a parent's rule wins (MultiheadAttention zeroes
    its out_proj bias; Transformer overrides its layers' matrices). Other layer types are left
    as they are. Layers that do not exist in this gradkit are skipped.

    How gradkit's own default differs: Linear and Conv1d/Conv2d start from
    kaiming_normal_(w, mode='fan_in', nonlinearity='relu') (N(0, 2/fan_in): √6 times
    PyTorch's std of 1/√(3·fan_in)) and zero biases, the course notes' choice for ReLU
    networks; the other layers above already start as PyTorch's do. Use this function to
    reproduce a PyTorch run's initial statistics (not its values: the generators differ)."""
    from gradkit import nn
    from gradkit.nn.lazy import UninitializedParameter
    rules = [(tuple(c for c in (getattr(nn, n, None) for n in names) if isinstance(c, type)),
              rule) for names, rule in _DEFAULTS]
    for m in reversed(list(module.modules())):
        if any(isinstance(p, UninitializedParameter) for p in m.parameters(recurse=False)):
            continue
        for classes, rule in rules:
            if classes and isinstance(m, classes):
                rule(m, generator)
                break
    return module

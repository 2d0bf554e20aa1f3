"""F.unfold (im2col) and F.fold (col2im): sliding blocks of an image as columns, and back.

For input (N, C, H, W), kernel (k_h, k_w), dilation d, padding p and stride s, the blocks
along each spatial dim number

    L_h = ⌊(H + 2·p_h − d_h·(k_h − 1) − 1) / s_h⌋ + 1        (likewise L_w; L = L_h·L_w)

    unfold:  out[n, (c, i, j), (a, b)] = x_padded[n, c, a·s_h + i·d_h, b·s_w + j·d_w]

with the column index (c, i, j) channel-major, shape (N, C·k_h·k_w, L). fold is its adjoint:
every column element added back at its place in an (H + 2p_h, W + 2p_w) image of zeros,
overlaps summed, then the padding cropped to ``output_size``. So the gradient of unfold is
fold and that of fold is unfold. Both loop over the k_h·k_w kernel offsets only, each offset
one strided slice of the whole batch. Unbatched input ((C, H, W) for unfold, (C·k_h·k_w, L)
for fold) works too, as in PyTorch. Unlike PyTorch, integer tensors are accepted as well.

    cols = F.unfold(x, kernel_size=3, padding=1)          # (N, C·9, H·W)
    F.fold(cols, (H, W), kernel_size=3, padding=1)        # each pixel times its 9 copies
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops.shape import reshape

__all__ = ["fold", "unfold"]


class _Geometry:
    """The options as pairs (height, width), and the number of blocks along each."""

    def __init__(self, op, size, kernel_size, dilation, padding, stride):
        self.kernel = _pair(kernel_size, "kernel size", op, 1)
        self.dilation = _pair(dilation, "dilation", op, 1)
        self.padding = _pair(padding, "padding", op, 0)
        self.stride = _pair(stride, "stride", op, 1)
        self.size = size
        self.blocks = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, d, p, s in zip(
            size, self.kernel, self.dilation, self.padding, self.stride))
        if min(self.blocks) < 1:
            raise ShapeError(f"{op}: Given {'output' if op == 'fold' else 'input with spatial'}"
                             f" size {size}, {self._options()}, calculated shape of the array "
                             f"of sliding blocks as {self.blocks}, but its components must be "
                             "at least one.")

    def _options(self):
        return (f"kernel_size={self.kernel}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")

    def offsets(self):
        """For each kernel offset (i, j), the slices of the padded image it reads."""
        (kh, kw), (dh, dw), (sh, sw) = self.kernel, self.dilation, self.stride
        lh, lw = self.blocks
        for i in range(kh):
            for j in range(kw):
                yield i, j, (slice(i * dh, i * dh + sh * (lh - 1) + 1, sh),
                             slice(j * dw, j * dw + sw * (lw - 1) + 1, sw))


def _pair(value, name, op, least):
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise ArgumentError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < least:
        relation = "greater than zero" if least else "non-negative"
        raise ArgumentError(f"{op}: {name} should be {relation}, but got {pair}")
    return tuple(int(v) for v in pair)


def _im2col(x, geo):
    """(N, C, H, W) → (N, C·k_h·k_w, L): each kernel offset's strided slice of the padded x."""
    (n, c), (ph, pw), (kh, kw) = x.shape[:2], geo.padding, geo.kernel
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
    cols = np.empty((n, c, kh, kw) + geo.blocks, x.dtype)
    for i, j, (rows, columns) in geo.offsets():
        cols[:, :, i, j] = xp[:, :, rows, columns]
    return cols.reshape(n, c * kh * kw, geo.blocks[0] * geo.blocks[1])


def _col2im(cols, geo):
    """(N, C·k_h·k_w, L) → (N, C, H, W): each offset's columns added back at its slice."""
    (ph, pw), (kh, kw), (h, w) = geo.padding, geo.kernel, geo.size
    n, c = cols.shape[0], cols.shape[1] // (kh * kw)
    cols = cols.reshape((n, c, kh, kw) + geo.blocks)
    image = np.zeros((n, c, h + 2 * ph, w + 2 * pw), cols.dtype)
    for i, j, (rows, columns) in geo.offsets():
        image[:, :, rows, columns] += cols[:, :, i, j]
    return image[:, :, ph:ph + h, pw:pw + w]


class Im2Col(Function):
    """out = unfold(x) (the formula above);  dx = fold(g), the overlaps summed."""

    def forward(self, x, geo):
        self.geo = geo
        return _im2col(x, geo)

    def backward(self, g):
        return _col2im(g, self.geo)


class Col2Im(Function):
    """out = fold(cols), the overlaps summed;  dcols = unfold(g)."""

    def forward(self, cols, geo):
        self.geo = geo
        return _col2im(cols, geo)

    def backward(self, g):
        return _im2col(g, self.geo)


# ----- the functions F.* calls -----

def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks as columns: (N, C, H, W) → (N, C·∏kernel_size, L); (C, H, W) →
    (C·∏kernel_size, L)."""
    if input.ndim not in (3, 4) or 0 in input.shape[-3:]:
        raise ShapeError(f"unfold: Expected 3D or 4D (batch mode) tensor with possibly 0 batch "
                         f"size and other non-zero dimensions for input, but got "
                         f"{input.shape}")
    geo = _Geometry("unfold", input.shape[-2:], kernel_size, dilation, padding, stride)
    if input.ndim == 3:
        return reshape(Im2Col.apply(reshape(input, (1,) + input.shape), geo=geo),
                       input.shape[0] * int(np.prod(geo.kernel)), -1)
    return Im2Col.apply(input, geo=geo)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Columns back into an image, overlaps summed: (N, C·∏kernel_size, L) → (N, C,
    *output_size); (C·∏kernel_size, L) → (C, *output_size)."""
    if input.ndim not in (2, 3) or 0 in input.shape[-2:]:
        raise ShapeError(f"fold: Expected 2D or 3D (batch mode) input tensor with possibly 0 "
                         f"batch size and non-zero dimensions for input, but got {input.shape}")
    geo = _Geometry("fold", _pair(output_size, "output_size", "fold", 1), kernel_size,
                    dilation, padding, stride)
    rows, blocks = input.shape[-2:]
    area = int(np.prod(geo.kernel))
    if rows % area:
        raise ShapeError(f"fold: Expected size of input's dimension {input.ndim - 2} to be "
                         f"divisible by the product of kernel_size, but got input.size"
                         f"({input.ndim - 2})={rows} and kernel_size={geo.kernel}.")
    if blocks != geo.blocks[0] * geo.blocks[1]:
        raise ShapeError(f"fold: Given output_size={geo.size}, {geo._options()}, expected size "
                         f"of input's dimension {input.ndim - 1} to match the calculated "
                         f"number of sliding blocks {geo.blocks[0]} * {geo.blocks[1]} = "
                         f"{geo.blocks[0] * geo.blocks[1]}, but got input.size"
                         f"({input.ndim - 1})={blocks}.")
    if input.ndim == 2:
        return reshape(Col2Im.apply(reshape(input, (1,) + input.shape), geo=geo),
                       (rows // area,) + geo.size)
    return Col2Im.apply(input, geo=geo)

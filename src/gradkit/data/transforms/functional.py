"""Deterministic batch operations behind the random transforms (torchvision's
``transforms.functional``, for whole batches).

Every function takes ``x`` (N, C, H, W) float and returns a new array of the same dtype.
Per-sample parameters are arrays of length N (a scalar is used for every sample); they are
applied by broadcasting and fancy indexing, never by a loop over samples or pixels. Colour
adjustments follow torchvision: images in [0, 1], results clamped to [0, 1].
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

GRAY_WEIGHTS = (0.2989, 0.587, 0.114)  # ITU-R 601-2 luma, as torchvision


def _per_sample(value, n, dtype=np.float32):
    """A scalar or length-n array -> an (n, 1, 1, 1) array for broadcasting over images."""
    return np.broadcast_to(np.asarray(value, dtype=dtype), (n,)).reshape(n, 1, 1, 1)


# ----- geometry ---------------------------------------------------------------------------

def hflip(x):
    """Mirror left-right: out[..., j] = x[..., W-1-j]."""
    return x[..., ::-1].copy()


def vflip(x):
    """Mirror top-bottom: out[..., i, :] = x[..., H-1-i, :]."""
    return x[..., ::-1, :].copy()


def pad(x, padding, fill=0.0, padding_mode="constant"):
    """Pad the borders: ``padding`` is p (all sides), (left/right, top/bottom) or
    (left, top, right, bottom) as in torchvision; modes constant, edge, reflect, symmetric."""
    if isinstance(padding, (int, np.integer)):
        left = top = right = bottom = int(padding)
    elif len(padding) == 2:
        left = right = padding[0]
        top = bottom = padding[1]
    else:
        left, top, right, bottom = padding
    widths = ((0, 0), (0, 0), (top, bottom), (left, right))
    if padding_mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=fill)
    if padding_mode not in ("edge", "reflect", "symmetric"):
        raise ValueError(f"pad: padding_mode must be constant, edge, reflect or symmetric, "
                         f"got {padding_mode!r}")
    return np.pad(x, widths, mode=padding_mode)


def crop(x, top, left, height, width):
    """out[n] = x[n, :, top[n]:top[n]+height, left[n]:left[n]+width] for every n at once."""
    n, _, h, w = x.shape
    top = np.broadcast_to(np.asarray(top, dtype=np.int64), (n,))
    left = np.broadcast_to(np.asarray(left, dtype=np.int64), (n,))
    if height > h or width > w or (top < 0).any() or (left < 0).any() or \
            (top + height > h).any() or (left + width > w).any():
        raise ValueError(f"crop: a {height}x{width} window at the given offsets does not fit "
                         f"in images of size {h}x{w}")
    windows = sliding_window_view(x, (height, width), axis=(2, 3))  # (N, C, H', W', h, w)
    return windows[np.arange(n), :, top, left]


def center_crop(x, size):
    """The central ``size`` (int or (h, w)) window of every image."""
    h, w = (size, size) if np.isscalar(size) else size
    return crop(x, (x.shape[2] - h) // 2, (x.shape[3] - w) // 2, h, w)


def _gather(x, index, axis):
    """x (N, C, H, W) taken at per-sample positions ``index`` (N or 1, K) along ``axis`` (2 or
    3): out[n, c, k, :] = x[n, c, index[n, k], :] (axis 2), and likewise for columns."""
    if index.shape[0] == 1:
        return np.take(x, index[0], axis=axis)
    n, c = x.shape[:2]
    lines = x if axis == 2 else x.transpose(0, 1, 3, 2)  # the gathered axis third
    lines = lines.reshape(n * c, *lines.shape[2:])      # a view: N and C merge
    out = lines[np.arange(n * c)[:, None], np.repeat(index, c, axis=0)]
    out = out.reshape(n, c, *out.shape[1:])
    return out if axis == 2 else out.transpose(0, 1, 3, 2)


def _interp_axis(x, coords, axis):
    """Linear interpolation of x along ``axis`` (2 or 3) at coordinates ``coords`` (N or 1, K)
    already inside [0, size − 1]: out = x[i0]·(1 − t) + x[i0 + 1]·t."""
    i0 = np.floor(coords).astype(np.int64)
    t = (coords - i0).astype(x.dtype)
    i1 = np.minimum(i0 + 1, x.shape[axis] - 1)
    t = t[:, None, :, None] if axis == 2 else t[:, None, None, :]
    a = _gather(x, i0, axis)
    out = _gather(x, i1, axis)
    out -= a
    out *= t
    out += a
    return out


def resample(x, sy, sx):
    """Separable bilinear resampling: output row k of image n reads input row ``sy[n, k]``,
    output column l reads column ``sx[n, l]`` (pixel centres at integers; coordinates past the
    border are clamped to it). ``sy`` (N or 1, Ho), ``sx`` (N or 1, Wo) -> (N, C, Ho, Wo).
    Rows are interpolated first, then columns."""
    h, w = x.shape[2:]
    rows = _interp_axis(x, np.clip(sy, 0, h - 1), axis=2)
    return np.ascontiguousarray(_interp_axis(rows, np.clip(sx, 0, w - 1), axis=3))


def window_coords(start, length, out_size):
    """Where the out_size output pixels of a resized window [start, start + length) read
    their input: start + (k + 0.5)·length/out_size − 0.5 (align_corners=False), clamped to the
    window. ``start``, ``length`` (N,) -> (N, out_size)."""
    k = np.arange(out_size, dtype=np.float64) + 0.5
    coords = start[:, None] + k * (length / out_size)[:, None] - 0.5
    return np.clip(coords, start[:, None], (start + length - 1)[:, None])


def resized_crop(x, top, left, height, width, size):
    """Crop the box (top, left, height, width) of each image (per-sample arrays or scalars)
    and resize it to ``size`` (int or (h, w)) by bilinear interpolation: the same as torch's
    ``interpolate(crop, mode='bilinear', align_corners=False, antialias=False)``."""
    n = len(x)
    out_h, out_w = (size, size) if np.isscalar(size) else size

    def per_sample(v):
        return np.broadcast_to(np.asarray(v, dtype=np.float64), (n,))

    top, left, height, width = map(per_sample, (top, left, height, width))
    return resample(x, window_coords(top, height, out_h), window_coords(left, width, out_w))


def resize(x, size):
    """Bilinear resize of the whole batch. ``size`` (h, w), or an int: the shorter side
    becomes ``size`` and the other keeps the aspect ratio (torchvision's rule)."""
    h, w = x.shape[2:]
    if np.isscalar(size):
        short, long_ = (h, w) if h <= w else (w, h)
        new_long = int(size * long_ / short)
        size = (size, new_long) if h <= w else (new_long, size)
    return resized_crop(x, 0, 0, h, w, size)


def sample_bilinear(x, sy, sx, fill=0.0):
    """Bilinear sampling of every image at its own points: ``sy``, ``sx`` (N, Ho, Wo) are
    source coordinates (pixel centres at integers). A neighbour outside the image counts as
    ``fill`` (PyTorch's grid_sample with zero padding when fill = 0). Returns (N, C, Ho, Wo)."""
    n, c, h, w = x.shape
    out_shape = sy.shape[1:]
    sy, sx = sy.reshape(n, -1), sx.reshape(n, -1)
    y0, x0 = np.floor(sy), np.floor(sx)
    ty, tx = (sy - y0).astype(x.dtype), (sx - x0).astype(x.dtype)
    y0, x0 = y0.astype(np.int64), x0.astype(np.int64)
    flat = np.ascontiguousarray(x).reshape(-1)
    image_start = (np.arange(n * c) * (h * w)).reshape(n, c, 1)
    out = np.zeros((n, c, sy.shape[1]), x.dtype)
    inside_weight = np.zeros(sy.shape, x.dtype)
    for dy, wy in ((0, 1 - ty), (1, ty)):
        for dx, wx in ((0, 1 - tx), (1, tx)):
            yy, xx = y0 + dy, x0 + dx
            inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
            weight = wy * wx * inside
            pixel = np.clip(yy, 0, h - 1) * w + np.clip(xx, 0, w - 1)
            corner = np.take(flat, image_start + pixel[:, None, :])
            corner *= weight[:, None, :]
            out += corner
            inside_weight += weight
    if fill:
        out += fill * (1 - inside_weight)[:, None, :]
    return out.reshape(n, c, *out_shape)


def affine(x, matrix, fill=0.0):
    """Apply per-sample affine maps about the image centre. ``matrix`` (N, 2, 3) maps an
    output pixel (x, y) relative to the centre to its source (x, y) relative to the centre
    (the inverse of the visible motion): src = A·(p − c) + t + c."""
    n, _, h, w = x.shape
    cy, cx = (h - 1) / 2, (w - 1) / 2
    gy, gx = np.meshgrid(np.arange(h) - cy, np.arange(w) - cx, indexing="ij")
    a = matrix.astype(np.float64)
    sx = a[:, 0, 0, None, None] * gx + a[:, 0, 1, None, None] * gy + a[:, 0, 2, None, None] + cx
    sy = a[:, 1, 0, None, None] * gx + a[:, 1, 1, None, None] * gy + a[:, 1, 2, None, None] + cy
    return sample_bilinear(x, sy, sx, fill)


# ----- colour ----------------------------------------------------------------------------

def rgb_to_grayscale(x):
    """(N, 3, H, W) -> (N, 1, H, W): 0.2989 R + 0.587 G + 0.114 B; a 1-channel batch as is."""
    if x.shape[1] == 1:
        return x
    r, g, b = GRAY_WEIGHTS
    return r * x[:, 0:1] + g * x[:, 1:2] + b * x[:, 2:3]


def _blend(a, b, factor):
    """clip(factor·a + (1 − factor)·b, 0, 1), torchvision's blend (in place on one new
    array: big temporaries cost page faults)."""
    out = a * factor
    out += (1 - factor) * b
    return np.clip(out, 0.0, 1.0, out=out)


def adjust_brightness(x, factor):
    """x · factor (factor 0: black, 1: the image, 2: twice as bright), clamped to [0, 1]
    (torchvision's blend with black)."""
    out = x * _per_sample(factor, len(x), x.dtype)
    return np.clip(out, 0.0, 1.0, out=out)


def adjust_contrast(x, factor):
    """Blend with the image's mean grey level: factor 0 gives a flat grey image."""
    mean = rgb_to_grayscale(x).mean(axis=(1, 2, 3), keepdims=True)
    return _blend(x, mean, _per_sample(factor, len(x), x.dtype))


def adjust_saturation(x, factor):
    """Blend with the grayscale image: factor 0 gives grey, 2 doubles the saturation.
    A 1-channel batch is returned unchanged (a copy)."""
    if x.shape[1] == 1:
        return x.copy()
    return _blend(x, rgb_to_grayscale(x), _per_sample(factor, len(x), x.dtype))


def adjust_hue(x, hue_factor):
    """Rotate the hue by ``hue_factor`` turns (in [-0.5, 0.5]) in HSV space; saturation and
    value are kept. A 1-channel batch is returned unchanged (a copy).

    Fused: with v = max(R, G, B), chroma c = v − min(R, G, B) = v·s and the shifted hue h',
    each channel is ``_hsv_channels(h', c, v)``, without materializing s."""
    if x.shape[1] == 1:
        return x.copy()
    v = x.max(axis=1)
    chroma = v - x.min(axis=1)
    h = _hue(x, v, chroma)
    h += _per_sample(hue_factor, len(x), x.dtype)[:, 0]
    h -= np.floor(h)  # back into [0, 1)
    return _hsv_channels(h, chroma, v)


def _hue(x, v, chroma):
    """The hue in turns [0, 1): which channel is the largest picks the sextant, the other two
    the position in it."""
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    # 6h = (g − b)/c if R is the largest, 2 + (b − r)/c if G is, 4 + (r − g)/c if B is;
    # picked by multiplying with the masks (np.where is slow on unpredictable masks)
    is_r = v == r
    is_g = (v == g) & ~is_r
    is_b = ~(is_r | is_g)
    h = is_r * (g - b)
    h += is_g * (b - r + 2 * chroma)
    h += is_b * (r - g + 4 * chroma)
    h /= 6 * chroma + (chroma == 0)  # grey pixels: 0 / 1
    h += h < 0  # the R sextant reaches below 0 turns
    return h


def _hsv_channels(h, chroma, v):
    """RGB from hue h (N, H, W) in turns, chroma and value: channel k with n_k = 5, 3, 1 is
    v − chroma·clip(min(m, 4 − m), 0, 1), m = (n_k + 6h) mod 6 (the closed form of the
    six-sector table)."""
    n = np.array([5, 3, 1], dtype=h.dtype).reshape(1, 3, 1, 1)
    m = 6 * h[:, None] + n  # in [1, 11): one subtraction of 6 is the mod
    m -= 6 * (m >= 6).astype(m.dtype)
    out = 4 - m
    ramp = np.clip(np.minimum(m, out, out=m), 0, 1, out=m)
    np.multiply(chroma[:, None], ramp, out=out)
    return np.subtract(v[:, None], out, out=out)


def rgb_to_hsv(x):
    """(N, 3, H, W) RGB in [0, 1] -> h, s, v each (N, H, W), h in turns [0, 1)."""
    v = x.max(axis=1)
    chroma = v - x.min(axis=1)
    s = chroma / np.where(v == 0, 1, v)
    return _hue(x, v, chroma), s, v


def hsv_to_rgb(h, s, v):
    """h, s, v (N, H, W) -> (N, 3, H, W), the inverse of ``rgb_to_hsv``."""
    return _hsv_channels(h, v * s, v)


def normalize(x, mean, std):
    """(x − mean[c]) / std[c] per channel."""
    c = x.shape[1]
    mean = np.broadcast_to(np.asarray(mean, dtype=x.dtype), (c,)).reshape(1, c, 1, 1)
    std = np.broadcast_to(np.asarray(std, dtype=x.dtype), (c,)).reshape(1, c, 1, 1)
    if (std == 0).any():
        raise ValueError(f"normalize: std evaluated to zero, got {std.ravel().tolist()}")
    return (x - mean) / std

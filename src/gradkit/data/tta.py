"""Test-time augmentation: average the class probabilities of several views of each image.

    probs = predict_tta(model, x, mode="ten_crop", size=28)     # (N, K), rows sum to 1

Modes (x is (N, C, H, W)):
- ``flip``: the image and its mirror image (2 views);
- ``ten_crop``: the four corner crops and the central crop of side ``size`` (default
  ⌊7H/8⌋ × ⌊7W/8⌋), each also mirrored (10 views). With ``padding`` the crops are cut from the
  zero-padded image, so ``ten_crop`` with ``padding=4`` and ``size=32`` on CIFAR sees the
  shifts that ``RandomCrop(32, padding=4)`` trained on;
- ``multiscale``: the image resized by each factor in ``scales`` (default 1, 1.15, 1.3;
  bilinear), centrally cropped back to ``size`` (default H × W, so a model with a fixed
  input size still works), each also mirrored (2 views per scale).
The model is called once per view, on the whole batch, under ``gk.no_grad()`` and in eval
mode (restored afterwards); it is any callable taking a gk Tensor and returning logits (N, K).
"""

import numpy as np

from gradkit.autograd import no_grad
from gradkit.data.transforms import functional as F
from gradkit.tensor import Tensor


def _views(x, mode, size, padding, scales):
    n, _, h, w = x.shape
    if mode == "flip":
        return [x, F.hflip(x)]
    if mode == "ten_crop":
        if padding:
            x = F.pad(x, padding)
            h, w = x.shape[2:]
        ch, cw = (size, size) if np.isscalar(size) else size or (h * 7 // 8, w * 7 // 8)
        if ch > h or cw > w:
            raise ValueError(f"predict_tta(ten_crop): crop {ch}x{cw} larger than the (padded) "
                             f"image {h}x{w}")
        corners = [(0, 0), (0, w - cw), (h - ch, 0), (h - ch, w - cw),
                   ((h - ch) // 2, (w - cw) // 2)]
        crops = [F.crop(x, top, left, ch, cw) for top, left in corners]
        return crops + [F.hflip(c) for c in crops]
    if mode == "multiscale":
        ch, cw = (size, size) if np.isscalar(size) else size or (h, w)
        views = []
        for s in scales:
            sh, sw = int(round(h * s)), int(round(w * s))
            if sh < ch or sw < cw:
                raise ValueError(f"predict_tta(multiscale): scale {s} gives {sh}x{sw}, smaller "
                                 f"than the {ch}x{cw} the model is fed")
            view = F.center_crop(F.resize(x, (sh, sw)), (ch, cw))
            views += [view, F.hflip(view)]
        return views
    raise ValueError(f"predict_tta: mode must be 'flip', 'ten_crop' or 'multiscale', got "
                     f"{mode!r}")


def _softmax(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def predict_tta(model, x, mode="flip", size=None, padding=0, scales=(1.0, 1.15, 1.3)):
    """Average softmax probabilities of ``model`` over the views of ``mode`` (see the module
    docstring). ``x``: (N, C, H, W) ndarray or Tensor. Returns a float32 Tensor (N, K)."""
    arr = x._data if isinstance(x, Tensor) else np.asarray(x, dtype=np.float32)
    if arr.ndim != 4:
        raise ValueError(f"predict_tta: expected a batch of images (N, C, H, W), got shape "
                         f"{arr.shape}")
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        total = None
        with no_grad():
            views = _views(arr, mode, size, padding, scales)
            for view in views:
                logits = model(Tensor._make(np.ascontiguousarray(view), None))
                logits = logits._data if isinstance(logits, Tensor) else np.asarray(logits)
                if logits.ndim != 2 or len(logits) != len(arr):
                    raise ValueError(f"predict_tta: the model must return logits (N, K) with "
                                     f"N={len(arr)}, got shape {logits.shape}")
                probs = _softmax(logits.astype(np.float64))
                total = probs if total is None else total + probs
    finally:
        if was_training and hasattr(model, "train"):
            model.train()
    return Tensor._make((total / len(views)).astype(np.float32), None)

"""Batch augmentation (``gradkit.data.transforms``): every transform takes a whole batch
(N, C, H, W) float32 and is vectorized over it; see base.py for the calling convention.

    from gradkit.data import transforms as T
    train_tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(),
                          T.ColorJitter(0.4, 0.4, 0.4), T.Normalize(mean, std)])
    x = train_tf(x)                      # or DataLoader(..., transform=train_tf)
    x, y_soft = T.MixUp(0.2, num_classes=10)(x, y)
"""

from gradkit.data.transforms import functional
from gradkit.data.transforms.base import Compose, Lambda, Transform
from gradkit.data.transforms.color import ColorJitter, GaussianNoise, Normalize, PCALighting
from gradkit.data.transforms.erasing import Cutout, RandomErasing
from gradkit.data.transforms.geometric import (RandomAffine, RandomCrop, RandomHorizontalFlip,
                                               RandomResizedCrop, RandomVerticalFlip,
                                               ScaleJitter)
from gradkit.data.transforms.mixing import CutMix, MixUp

__all__ = ["Transform", "Compose", "Lambda", "functional", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomCrop", "RandomResizedCrop", "ScaleJitter",
           "RandomAffine", "ColorJitter", "PCALighting", "GaussianNoise", "Normalize",
           "RandomErasing", "Cutout", "MixUp", "CutMix"]

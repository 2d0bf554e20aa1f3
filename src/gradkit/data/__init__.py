"""Data (``gradkit.data``): datasets, samplers, the DataLoader, splits, preprocessing fitted
on the training split, batch augmentation and test-time augmentation.

    from gradkit.data import DataLoader, datasets, transforms as T
    train = datasets.mnist5k("train")
    loader = DataLoader(train, batch_size=128, shuffle=True, seed=0,
                        transform=T.Compose([T.RandomCrop(28, padding=2)]))
    for x, y in loader: ...
"""

from gradkit.data import datasets, transforms
from gradkit.data.dataset import (ArrayDataset, ConcatDataset, Dataset, Subset, TensorDataset,
                                  has_batches, random_split)
from gradkit.data.loader import DataLoader, default_collate
from gradkit.data.preprocessing import PCA, Standardize, Whiten
from gradkit.data.sampler import (BatchSampler, DistributedSampler, RandomSampler, Sampler,
                                  SequentialSampler, SubsetRandomSampler)
from gradkit.data.splits import KFold, StratifiedKFold, train_val_split
from gradkit.data.tta import predict_tta

__all__ = ["Dataset", "TensorDataset", "ArrayDataset", "Subset", "ConcatDataset",
           "random_split", "has_batches", "DataLoader", "default_collate", "Sampler",
           "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler",
           "DistributedSampler", "train_val_split", "KFold", "StratifiedKFold", "Standardize",
           "PCA", "Whiten", "predict_tta", "datasets", "transforms"]

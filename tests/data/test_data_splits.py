"""train_val_split, KFold and StratifiedKFold (against scikit-learn)."""

import numpy as np
import pytest
from sklearn import model_selection as ms

from gradkit.data import ArrayDataset, KFold, StratifiedKFold, train_val_split

Y = np.random.default_rng(0).choice([0, 1, 1, 2, 2, 2, 5], size=47)
X = np.zeros((47, 2))


def same_folds(ours, theirs):
    ours, theirs = list(ours), list(theirs)
    assert len(ours) == len(theirs)
    for (tr, te), (rtr, rte) in zip(ours, theirs):
        np.testing.assert_array_equal(tr, rtr)
        np.testing.assert_array_equal(te, rte)


@pytest.mark.parametrize("n_splits", [2, 5, 7])
@pytest.mark.parametrize("shuffle,state", [(False, None), (True, 0), (True, 42)])
def test_kfold_matches_sklearn(n_splits, shuffle, state):
    same_folds(KFold(n_splits, shuffle=shuffle, random_state=state).split(X),
               ms.KFold(n_splits, shuffle=shuffle, random_state=state).split(X))
    assert KFold(n_splits).get_n_splits() == n_splits


@pytest.mark.parametrize("n_splits", [2, 3])
@pytest.mark.parametrize("shuffle,state", [(False, None), (True, 0), (True, 7)])
def test_stratified_kfold_matches_sklearn(n_splits, shuffle, state):
    same_folds(StratifiedKFold(n_splits, shuffle=shuffle, random_state=state).split(X, Y),
               ms.StratifiedKFold(n_splits, shuffle=shuffle, random_state=state).split(X, Y))


def test_folds_partition_the_samples():
    tests = [te for _, te in KFold(4, shuffle=True, random_state=1).split(X)]
    assert sorted(np.concatenate(tests).tolist()) == list(range(47))
    with pytest.raises(ValueError, match="n_splits"):
        KFold(1)
    with pytest.raises(ValueError, match="greater than the number of samples"):
        list(KFold(50).split(X))
    with pytest.warns(UserWarning, match="least populated"):
        list(StratifiedKFold(6).split(X, Y))


def test_train_val_split():
    ds = ArrayDataset(np.arange(100, dtype=np.float32)[:, None], np.arange(100) % 4)
    train, val = train_val_split(ds, 0.2, seed=0)
    assert len(train) == 80 and len(val) == 20
    assert sorted(np.r_[train.indices, val.indices].tolist()) == list(range(100))
    again = train_val_split(ds, 0.2, seed=0)[1]
    np.testing.assert_array_equal(again.indices, val.indices)
    assert not np.array_equal(train_val_split(ds, 0.2, seed=1)[1].indices, val.indices)
    _, strat = train_val_split(ds, 0.2, seed=0, stratify=True)
    np.testing.assert_array_equal(np.bincount(ds.y[strat.indices]), [5, 5, 5, 5])
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(ds, 1.5)

import numpy as np
import pytest
import torch
from skorch.dataset import Dataset

from geneperm_sk._batching import TensorBatchIterator


def make_dataset(n_samples=10):
    X = torch.arange(n_samples * 3, dtype=torch.float32).reshape(n_samples, 3)
    return Dataset(X, torch.arange(n_samples))


def test_batches_cover_every_sample_once_in_order():
    batches = list(TensorBatchIterator(make_dataset(), batch_size=4))
    assert [len(X) for X, _ in batches] == [4, 4, 2]
    assert len(TensorBatchIterator(make_dataset(), batch_size=4)) == 3
    np.testing.assert_array_equal(torch.cat([y for _, y in batches]), np.arange(10))


def test_shuffled_batches_are_a_new_permutation_each_epoch():
    iterator = TensorBatchIterator(
        make_dataset(),
        batch_size=3,
        shuffle=True,
        random_state=np.random.default_rng(0),
    )
    first = torch.cat([y for _, y in iterator])
    second = torch.cat([y for _, y in iterator])
    assert sorted(first.tolist()) == list(range(10))
    assert sorted(second.tolist()) == list(range(10))
    assert first.tolist() != second.tolist()
    X, y = next(iter(iterator))
    np.testing.assert_array_equal(X[:, 0], y * 3)  # rows stay with their labels


def test_prediction_batches_have_no_labels():
    dataset = Dataset(torch.ones(5, 2), None)
    (batch,) = list(TensorBatchIterator(dataset, batch_size=8))
    assert batch[1] is None


def test_shuffle_needs_a_generator():
    with pytest.raises(ValueError, match="random_state=None"):
        TensorBatchIterator(make_dataset(), batch_size=2, shuffle=True)

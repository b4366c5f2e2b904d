import numpy as np
import pytest
import torch
from skorch.dataset import Dataset

from geneperm_sk._batching import BagSubset, BlockBatchIterator, BlockSubset


def make_subset(n_samples=10, indices=None, dtype=torch.float32):
    X = torch.arange(n_samples * 3).reshape(n_samples, 3).to(dtype)
    return BlockSubset(X, torch.arange(n_samples), indices)


def test_batches_cover_every_sample_once_in_order():
    batches = list(BlockBatchIterator(make_subset(), batch_size=4))
    assert [len(X) for X, _ in batches] == [4, 4, 2]
    assert len(BlockBatchIterator(make_subset(), batch_size=4)) == 3
    np.testing.assert_array_equal(torch.cat([y for _, y in batches]), np.arange(10))


def test_a_skorch_dataset_is_read_as_all_its_samples():
    dataset = Dataset(torch.zeros(7, 2), torch.arange(7))
    batches = list(BlockBatchIterator(dataset, batch_size=5))
    assert [y.tolist() for _, y in batches] == [[0, 1, 2, 3, 4], [5, 6]]


def test_a_subset_yields_only_its_samples_without_copying_the_rest():
    subset = make_subset(indices=torch.tensor([7, 2, 5]))
    assert len(subset) == 3
    ((X, y),) = list(BlockBatchIterator(subset, batch_size=8))
    assert y.tolist() == [7, 2, 5]
    np.testing.assert_array_equal(X[:, 0], [21, 6, 15])


@pytest.mark.parametrize("dtype", [torch.int8, torch.float64])
def test_batches_are_converted_to_float32_one_at_a_time(dtype):
    subset = make_subset(n_samples=6, dtype=dtype)
    for X, _ in BlockBatchIterator(
        subset, batch_size=4, shuffle=True, random_state=np.random.default_rng(0)
    ):
        assert X.dtype == torch.float32
    assert subset.X.dtype == dtype


def test_shuffled_batches_are_a_new_permutation_each_epoch():
    iterator = BlockBatchIterator(
        make_subset(),
        batch_size=3,
        shuffle=True,
        random_state=np.random.default_rng(0),
    )
    first = torch.cat([y for _, y in iterator])
    second = torch.cat([y for _, y in iterator])
    assert sorted(first.tolist()) == list(range(10))
    assert sorted(second.tolist()) == list(range(10))
    assert first.tolist() != second.tolist()


def test_capped_epochs_visit_every_sample_once_before_any_twice():
    iterator = BlockBatchIterator(
        make_subset(n_samples=10),
        batch_size=3,
        shuffle=True,
        random_state=np.random.default_rng(0),
        max_samples_per_iteration=4,
    )
    assert len(iterator) == 2
    epochs = [torch.cat([y for _, y in iterator]).tolist() for _ in range(5)]
    assert [len(epoch) for epoch in epochs] == [4] * 5
    visited = sum(epochs, [])
    assert sorted(visited[:10]) == list(range(10))
    assert sorted(visited[10:20]) == list(range(10))


def test_a_cap_above_the_sample_count_changes_nothing():
    def epochs(cap):
        iterator = BlockBatchIterator(
            make_subset(),
            batch_size=4,
            shuffle=True,
            random_state=np.random.default_rng(3),
            max_samples_per_iteration=cap,
        )
        return [torch.cat([y for _, y in iterator]).tolist() for _ in range(3)]

    assert epochs(None) == epochs(10) == epochs(1000)


def test_shuffling_needs_a_generator():
    with pytest.raises(ValueError, match="needs a numpy Generator as random_state"):
        BlockBatchIterator(make_subset(), batch_size=2, shuffle=True)


@pytest.mark.parametrize("dtype", [torch.int8, torch.float32, torch.float64])
def test_a_gathered_subset_holds_the_same_samples_in_new_memory(dtype):
    subset = make_subset(indices=torch.tensor([7, 2, 5]), dtype=dtype)
    assert subset.n_bytes() == 3 * 3 * subset.X.element_size()
    gathered = subset.gathered()
    assert gathered.indices is None and len(gathered) == 3
    assert gathered.X.data_ptr() != subset.X.data_ptr()
    assert gathered.X.dtype == dtype
    assert gathered.n_bytes() == subset.n_bytes()
    expected = list(BlockBatchIterator(subset, batch_size=2))
    for (X, y), (X_expected, y_expected) in zip(
        BlockBatchIterator(gathered, batch_size=2), expected, strict=True
    ):
        assert torch.equal(X, X_expected) and torch.equal(y, y_expected)


def test_a_gathered_subset_of_bags_holds_the_same_bags():
    rows = torch.arange(20, dtype=torch.float32).reshape(10, 2)
    offsets = torch.tensor([0, 1, 4, 6, 10])
    subset = BagSubset(rows, offsets, torch.arange(4), torch.tensor([3, 0, 2]))
    assert subset.n_bytes() == (4 + 1 + 2) * 2 * 4
    gathered = subset.gathered()
    assert gathered.indices is None and gathered.n_bytes() == subset.n_bytes()
    for position in range(3):
        expected = subset.batch(torch.tensor([position]))
        batch = gathered.batch(slice(position, position + 1))
        assert torch.equal(batch.X["X"], expected.X["X"])
        assert torch.equal(batch.X["offsets"], expected.X["offsets"])
        assert torch.equal(batch.y, expected.y)

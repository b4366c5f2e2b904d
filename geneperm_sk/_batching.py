"""Mini-batches sliced from tensors that already sit on the training device."""

import math

import torch

__all__ = ["TensorBatchIterator"]


class TensorBatchIterator:
    """Iterate over mini-batches of a skorch ``Dataset`` holding tensors.

    skorch's default ``DataLoader`` fetches and collates one sample at a time, which
    dominates the cost of training a small model. This iterator takes the dataset's
    tensors as they are (already on the training device) and yields slices, drawn
    through one random permutation per epoch when ``shuffle`` is True. It is passed
    to skorch as ``iterator_train`` and ``iterator_valid``.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset
        A dataset whose ``X`` (and ``y``, if not None) are tensors of equal length.

    batch_size : int
        The number of samples per batch; the last batch may be smaller.

    shuffle : bool, default=False
        Whether to visit the samples in a new random order at every iteration.

    random_state : numpy.random.Generator, default=None
        The source of the permutations. Required when ``shuffle`` is True.
    """

    def __init__(self, dataset, batch_size, shuffle=False, random_state=None):
        if shuffle and random_state is None:
            raise ValueError(
                "TensorBatchIterator needs a numpy Generator as random_state when "
                "shuffle=True; got random_state=None."
            )
        self.X = dataset.X
        self.y = dataset.y
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state

    def __len__(self):
        return math.ceil(len(self.X) / self.batch_size)

    def __iter__(self):
        n_samples = len(self.X)
        if self.shuffle:
            order = torch.from_numpy(self.random_state.permutation(n_samples))
            order = order.to(self.X.device)
        for start in range(0, n_samples, self.batch_size):
            if self.shuffle:
                # index_select copies rows several times faster than X[indices].
                batch = order[start : start + self.batch_size]
                X = self.X.index_select(0, batch)
                y = None if self.y is None else self.y.index_select(0, batch)
            else:
                X = self.X[start : start + self.batch_size]
                y = None if self.y is None else self.y[start : start + self.batch_size]
            yield X, y

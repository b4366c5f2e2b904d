"""Mini-batches of blocks taken from tensors that already sit on the training device."""

import math

import torch

__all__ = ["BlockBatchIterator", "BlockSubset"]


class BlockSubset:
    """The samples of ``X`` and ``y`` at ``indices``, without copying them.

    The early-stopping split of a fit is two of these over the same tensors, so
    that setting samples aside for validation costs no copy of the data.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, ...)
        The samples, in any dtype (int8 and float64 data stay as they are and are
        converted a batch at a time).

    y : torch.Tensor of shape (n_samples,) or None
        The targets.

    indices : torch.Tensor of shape (n_subset,), default=None
        Positions of the samples in the subset, on the device of ``X``. None
        means every sample, in order.
    """

    def __init__(self, X, y, indices=None):
        self.X = X
        self.y = y
        self.indices = indices

    def __len__(self):
        return len(self.X) if self.indices is None else len(self.indices)

    def batch(self, positions):
        """The float32 samples and the targets at ``positions`` of the subset.

        ``positions`` is a slice or a tensor of positions within the subset.
        """
        if isinstance(positions, slice) and self.indices is None:
            X = self.X[positions]
            y = None if self.y is None else self.y[positions]
            return X.to(torch.float32), y
        if isinstance(positions, slice):
            rows = self.indices[positions]
        elif self.indices is None:
            rows = positions
        else:
            rows = self.indices.index_select(0, positions)
        # index_select copies rows several times faster than X[rows].
        X = self.X.index_select(0, rows)
        y = None if self.y is None else self.y.index_select(0, rows)
        return X.to(torch.float32), y


class BlockBatchIterator:
    """Iterate over mini-batches of a :class:`BlockSubset`.

    skorch's default ``DataLoader`` fetches and collates one sample at a time,
    which dominates the cost of training a small model. This iterator slices
    batches out of the subset's tensors (already on the training device) and
    converts each batch to float32 as it is used. It is passed to skorch as
    ``iterator_train`` and ``iterator_valid``; skorch builds it once per fit and
    iterates over it once per epoch.

    Parameters
    ----------
    dataset : BlockSubset or skorch.dataset.Dataset
        The samples. A skorch ``Dataset`` of tensors is read as all its samples.

    batch_size : int
        The number of samples per batch; the last batch may be smaller.

    shuffle : bool, default=False
        Whether to visit the samples in random order: one running random
        permutation, continued from one iteration to the next and redrawn when
        it is used up.

    random_state : numpy.random.Generator, default=None
        The source of the permutations. Required when ``shuffle`` is True.

    max_samples_per_iteration : int, default=None
        With ``shuffle``, the most samples one iteration (one epoch) visits; the
        next iteration carries on where this one stopped, so that every sample is
        visited once before any is visited twice. None visits all samples in
        every iteration.
    """

    def __init__(
        self,
        dataset,
        batch_size,
        shuffle=False,
        random_state=None,
        max_samples_per_iteration=None,
    ):
        if shuffle and random_state is None:
            raise ValueError(
                "BlockBatchIterator needs a numpy Generator as random_state when "
                "shuffle=True; got random_state=None."
            )
        if not isinstance(dataset, BlockSubset):
            dataset = BlockSubset(dataset.X, dataset.y)
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.max_samples_per_iteration = max_samples_per_iteration
        self._order = None
        self._next_position = 0

    def _samples_per_iteration(self):
        n_samples = len(self.dataset)
        if not self.shuffle or self.max_samples_per_iteration is None:
            return n_samples
        return min(n_samples, self.max_samples_per_iteration)

    def __len__(self):
        return math.ceil(self._samples_per_iteration() / self.batch_size)

    def _shuffled_positions(self, n_wanted):
        """The next ``n_wanted`` positions of the running permutation."""
        n_samples = len(self.dataset)
        device = self.dataset.X.device
        pieces = []
        while n_wanted > 0:
            if self._order is None or self._next_position == n_samples:
                order = self.random_state.permutation(n_samples)
                self._order = torch.from_numpy(order).to(device)
                self._next_position = 0
            stop = min(n_samples, self._next_position + n_wanted)
            pieces.append(self._order[self._next_position : stop])
            n_wanted -= stop - self._next_position
            self._next_position = stop
        return pieces[0] if len(pieces) == 1 else torch.cat(pieces)

    def __iter__(self):
        n_visited = self._samples_per_iteration()
        if self.shuffle:
            positions = self._shuffled_positions(n_visited)
        for start in range(0, n_visited, self.batch_size):
            if self.shuffle:
                yield self.dataset.batch(positions[start : start + self.batch_size])
            else:
                yield self.dataset.batch(slice(start, start + self.batch_size))

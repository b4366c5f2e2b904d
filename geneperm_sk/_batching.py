"""Mini-batches of blocks taken from tensors that already sit on the training device."""

import math

import torch

__all__ = ["BatchBuffers", "BlockBatchIterator", "BlockSubset"]


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

    def batch(self, positions, buffers=None):
        """The float32 samples and the targets at ``positions`` of the subset.

        Parameters
        ----------
        positions : slice or torch.Tensor
            Positions within the subset.

        buffers : BatchBuffers, default=None
            Where to gather and convert the samples. A batch then lives in memory
            that the next batch overwrites, and gathering large batches costs no
            fresh pages (several times faster). None returns new tensors (or a
            view of ``X`` for a slice of float32 samples).
        """
        if isinstance(positions, slice) and self.indices is None:
            X = self.X[positions]
            y = None if self.y is None else self.y[positions]
            return _to_float32(X, buffers), y
        if isinstance(positions, slice):
            rows = self.indices[positions]
        elif self.indices is None:
            rows = positions
        else:
            rows = self.indices.index_select(0, positions)
        # index_select copies rows several times faster than X[rows].
        if buffers is None:
            X = self.X.index_select(0, rows)
        else:
            X = torch.index_select(
                self.X, 0, rows, out=buffers.gathered(self.X, len(rows))
            )
        y = None if self.y is None else self.y.index_select(0, rows)
        return _to_float32(X, buffers), y


class BatchBuffers:
    """Reusable memory for gathered and converted batches (see
    :meth:`BlockSubset.batch`). Each buffer grows to the largest batch asked for."""

    def __init__(self):
        self._buffers = {}

    def _buffer(self, role, like, n_samples, dtype):
        shape = (n_samples, *like.shape[1:])
        buffer = self._buffers.get(role)
        if (
            buffer is None
            or buffer.dtype != dtype
            or buffer.device != like.device
            or buffer.shape[1:] != shape[1:]
            or len(buffer) < n_samples
        ):
            buffer = torch.empty(shape, dtype=dtype, device=like.device)
            self._buffers[role] = buffer
        return buffer[:n_samples]

    def gathered(self, X, n_samples):
        """Room for ``n_samples`` samples of ``X``, in its dtype."""
        return self._buffer("gathered", X, n_samples, X.dtype)

    def converted(self, X, dtype=torch.float32):
        """Room for a copy of the samples ``X`` in ``dtype``."""
        return self._buffer("converted", X, len(X), dtype)


def _to_float32(X, buffers):
    if X.dtype == torch.float32:
        return X
    if buffers is None:
        return X.to(torch.float32)
    return buffers.converted(X).copy_(X)


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

    reuse_memory : bool, default=False
        Whether every batch is gathered into the same memory (see
        :class:`BatchBuffers`): faster for large batches, for consumers that are
        done with a batch before they ask for the next, such as a loss or a
        prediction loop.
    """

    def __init__(
        self,
        dataset,
        batch_size,
        shuffle=False,
        random_state=None,
        max_samples_per_iteration=None,
        reuse_memory=False,
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
        self.reuse_memory = reuse_memory
        self._buffers = BatchBuffers() if reuse_memory else None
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
                batch = positions[start : start + self.batch_size]
            else:
                batch = slice(start, start + self.batch_size)
            yield self.dataset.batch(batch, self._buffers)

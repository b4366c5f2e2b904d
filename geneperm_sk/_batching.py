"""Mini-batches of blocks or bags taken from tensors that already sit on the
training device."""

import math

import torch

__all__ = ["BagBatch", "BagSubset", "BatchBuffers", "BlockBatchIterator", "BlockSubset"]


class BlockSubset(torch.utils.data.Dataset):
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

    @property
    def device(self):
        return self.X.device

    def subset(self, indices):
        """The samples at ``indices`` (positions in the whole data), sharing memory."""
        return type(self)(self.X, self.y, indices)

    def n_values(self):
        """How many values the samples of the subset hold."""
        return len(self) * self.X[0].numel() if len(self) else 0

    def n_bytes(self):
        """The memory the samples of the subset take in the data's dtype."""
        return self.n_values() * self.X.element_size()

    def gathered(self):
        """The samples of the subset gathered into new memory: a subset of all
        of it, whose batches in order are views (for float32 data)."""
        if self.indices is None:
            return self
        y = None if self.y is None else self.y.index_select(0, self.indices)
        return type(self)(self.X.index_select(0, self.indices), y)

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


class BagBatch:
    """A mini-batch of bags: ``X``, a dict ``{"X": rows, "offsets": offsets}`` that
    skorch passes to the module as ``module(**X)``, and the targets ``y``.

    It unpacks as ``X, y = batch`` and its ``len`` is the number of bags, which
    skorch records as the batch size (the rows and offsets have other lengths).
    """

    def __init__(self, rows, offsets, y):
        self.X = {"X": rows, "offsets": offsets}
        self.y = y

    def __iter__(self):
        return iter((self.X, self.y))

    def __len__(self):
        return len(self.X["offsets"]) - 1


class BagSubset(torch.utils.data.Dataset):
    """The bags of ``rows`` and ``y`` at ``indices``, without copying them.

    Parameters
    ----------
    rows : torch.Tensor of shape (n_rows, n_columns)
        The rows of all bags laid end to end, in any dtype (converted to float32
        a batch at a time).

    offsets : torch.Tensor of shape (n_bags + 1,)
        int64 positions in ``rows`` where each bag starts, then ``len(rows)``,
        on the device of ``rows``.

    y : torch.Tensor of shape (n_bags,) or None
        The targets.

    indices : torch.Tensor of shape (n_subset,), default=None
        Positions of the bags in the subset, on the device of ``rows``. None
        means every bag, in order.
    """

    def __init__(self, rows, offsets, y, indices=None):
        self.rows = rows
        self.offsets = offsets
        self.y = y
        self.indices = indices

    def __len__(self):
        return len(self.offsets) - 1 if self.indices is None else len(self.indices)

    @property
    def device(self):
        return self.rows.device

    def subset(self, indices):
        """The bags at ``indices`` (positions in the whole data), sharing memory."""
        return type(self)(self.rows, self.offsets, self.y, indices)

    def n_values(self):
        """How many values the rows of the subset hold."""
        return int(self.sizes().sum()) * self.rows.shape[1]

    def n_bytes(self):
        """The memory the rows of the subset take in the data's dtype."""
        return self.n_values() * self.rows.element_size()

    def gathered(self):
        """The bags of the subset gathered into new memory: a subset of all of
        it, whose batches in order are views (for float32 data)."""
        if self.indices is None:
            return self
        return type(self)(*self.gather(slice(None)))

    def bags_at(self, positions):
        """The positions of the bags in the whole data (a slice or a tensor)."""
        if self.indices is None:
            return positions
        if isinstance(positions, slice):
            return self.indices[positions]
        return self.indices.index_select(0, positions)

    def sizes(self):
        """The number of rows of each bag of the subset, in order."""
        sizes = self.offsets[1:] - self.offsets[:-1]
        return sizes if self.indices is None else sizes.index_select(0, self.indices)

    def batch(self, positions, buffers=None):
        """The bags at ``positions`` of the subset as a :class:`BagBatch` of
        float32 rows (gathered into ``buffers`` when given, see
        :meth:`BlockSubset.batch`)."""
        rows, offsets, y = self.gather(positions, buffers)
        return BagBatch(_to_float32(rows, buffers), offsets, y)

    def gather(self, positions, buffers=None):
        """``(rows, offsets, y)`` of the bags at ``positions`` of the subset: their
        rows laid end to end in the data's dtype, where each bag starts in them
        (then their number), and their targets."""
        bags = self.bags_at(positions)
        if isinstance(bags, slice):
            start, stop, _ = bags.indices(len(self.offsets) - 1)
            stop = max(start, stop)
            first, last = self.offsets[start], self.offsets[stop]
            rows = self.rows[first:last]
            offsets = self.offsets[start : stop + 1] - first
            y = None if self.y is None else self.y[start:stop]
            return rows, offsets, y
        starts = self.offsets.index_select(0, bags)
        sizes = self.offsets.index_select(0, bags + 1) - starts
        offsets = torch.zeros(len(bags) + 1, dtype=torch.int64, device=self.device)
        torch.cumsum(sizes, 0, out=offsets[1:])
        n_rows = int(offsets[-1])
        # Row i of the batch is row i - offsets[bag] + starts[bag] of the data.
        shifts = (starts - offsets[:-1]).repeat_interleave(sizes, output_size=n_rows)
        row_index = torch.arange(n_rows, device=self.device) + shifts
        if buffers is None:
            rows = self.rows.index_select(0, row_index)
        else:
            rows = torch.index_select(
                self.rows, 0, row_index, out=buffers.gathered(self.rows, n_rows)
            )
        y = None if self.y is None else self.y.index_select(0, bags)
        return rows, offsets, y


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

    max_rows_per_batch : int, default=None
        For bags visited in order (``shuffle=False``), the most rows a batch
        holds: consecutive bags are grouped up to ``batch_size`` bags and this
        many rows, and a bag with more rows is a batch of its own. None groups
        by ``batch_size`` only. Batches of bags are :class:`BagBatch` objects.
    """

    def __init__(
        self,
        dataset,
        batch_size,
        shuffle=False,
        random_state=None,
        max_samples_per_iteration=None,
        reuse_memory=False,
        max_rows_per_batch=None,
    ):
        if shuffle and random_state is None:
            raise ValueError(
                "BlockBatchIterator needs a numpy Generator as random_state when "
                "shuffle=True; got random_state=None."
            )
        if not isinstance(dataset, BlockSubset | BagSubset):
            dataset = BlockSubset(dataset.X, dataset.y)
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.max_samples_per_iteration = max_samples_per_iteration
        self.reuse_memory = reuse_memory
        self.max_rows_per_batch = max_rows_per_batch
        self._buffers = BatchBuffers() if reuse_memory else None
        self._order = None
        self._next_position = 0

    def _samples_per_iteration(self):
        n_samples = len(self.dataset)
        if not self.shuffle or self.max_samples_per_iteration is None:
            return n_samples
        return min(n_samples, self.max_samples_per_iteration)

    def _groups_rows(self):
        return (
            self.max_rows_per_batch is not None
            and not self.shuffle
            and isinstance(self.dataset, BagSubset)
        )

    def _row_limited_slices(self):
        """Consecutive bags up to ``batch_size`` bags and ``max_rows_per_batch``
        rows each (at least one bag)."""
        sizes = self.dataset.sizes().cpu().tolist()
        start, n_rows = 0, 0
        for position, size in enumerate(sizes):
            full = position - start == self.batch_size
            if position > start and (full or n_rows + size > self.max_rows_per_batch):
                yield slice(start, position)
                start, n_rows = position, 0
            n_rows += size
        if start < len(sizes):
            yield slice(start, len(sizes))

    def __len__(self):
        if self._groups_rows():
            return sum(1 for _ in self._row_limited_slices())
        return math.ceil(self._samples_per_iteration() / self.batch_size)

    def _shuffled_positions(self, n_wanted):
        """The next ``n_wanted`` positions of the running permutation."""
        n_samples = len(self.dataset)
        device = self.dataset.device
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
        if self._groups_rows():
            for batch in self._row_limited_slices():
                yield self.dataset.batch(batch, self._buffers)
            return
        n_visited = self._samples_per_iteration()
        if self.shuffle:
            positions = self._shuffled_positions(n_visited)
        for start in range(0, n_visited, self.batch_size):
            if self.shuffle:
                batch = positions[start : start + self.batch_size]
            else:
                batch = slice(start, start + self.batch_size)
            yield self.dataset.batch(batch, self._buffers)

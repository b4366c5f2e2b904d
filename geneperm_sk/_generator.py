"""Draw Gene-Perm data: blocks of rows of a balanced +-1 table."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["bayes_accuracy", "make_geneperm"]

SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int8))

# Blocks of a large part of the table are drawn from one random key per table row,
# a slice of keys at a time: a slice of samples, or of the keys of one sample. A
# key, its index and what np.argpartition allocates take about 24 bytes; a slice
# holds 1/64 as many keys as the int8 table and the output have bytes, so the keys
# take well under half as much memory as those, with at least _MIN_KEYS_PER_SLICE
# and at most _MAX_KEYS_PER_SLICE keys.
_MIN_KEYS_PER_SLICE = 1 << 16
_MAX_KEYS_PER_SLICE = 1 << 22

# A user table is checked this many entries at a time.
_MAX_ENTRIES_PER_SLICE = 1 << 20


class _DefaultInt(int):
    """An int default value that can be told apart from the same value passed by a
    caller, so that ``make_geneperm(table=T)`` can take the table's shape while an
    explicit conflicting ``n_columns`` or ``n_table_rows`` is still an error."""

    __repr__ = int.__repr__


_DEFAULT_N_COLUMNS = _DefaultInt(20)
_DEFAULT_N_TABLE_ROWS = _DefaultInt(1000)


@validate_params(
    {
        "block_size": [Interval(Integral, 1, None, closed="left")],
        "positive_fraction": [Interval(Real, 0, 1, closed="both")],
    },
    prefer_skip_nested_validation=True,
)
def bayes_accuracy(block_size, positive_fraction=0.5):
    """Exact Bayes-optimal accuracy on Gene-Perm data.

    Read more in the :ref:`User Guide <bayes_ceiling>`.

    Parameters
    ----------
    block_size : int
        Number of table rows per sample.

    positive_fraction : float, default=0.5
        Probability that a sample is positive (label 1).

    Returns
    -------
    accuracy : float
        The highest accuracy any classifier can reach,
        ``1 - min(positive_fraction * 2**-block_size, 1 - positive_fraction)``.

    Notes
    -----
    A negative block consists of intact table rows, every one of them balanced
    (it sums to 0). A positive block has one column overwritten by independent
    fair signs; each overwritten entry differs from the original with probability
    1/2 and then changes its row's sum by +-2. So a block with any unbalanced row is
    positive with certainty, and a positive block looks exactly like a negative one
    only when all ``b = block_size`` overwritten entries equal the originals, which
    happens with probability ``2**-b`` whatever the table.

    With ``p = positive_fraction``, a block whose rows are all balanced is positive
    with probability proportional to ``p * 2**-b`` and negative with probability
    proportional to ``1 - p``. The optimal rule predicts the larger of the two,
    so its error is ``min(p * 2**-b, 1 - p)``. The result does not depend on the
    number of columns or table rows. For ``p = 1/2`` it is ``1 - 2**-(b + 1)``:
    0.75 for ``b = 1``, 0.875 for ``b = 2`` and 0.96875 for ``b = 4``.

    Examples
    --------
    >>> from geneperm_sk import bayes_accuracy
    >>> bayes_accuracy(1)
    0.75
    >>> bayes_accuracy(4, positive_fraction=0.5)
    0.96875
    """
    p = float(positive_fraction)
    return 1.0 - min(p * 2.0 ** -int(block_size), 1.0 - p)


def check_table_settings(
    *,
    n_columns=None,
    block_size=None,
    n_table_rows=None,
    owner="make_geneperm",
    kind="parameter",
):
    """The rules that tie the generator's settings together, checked without
    drawing anything: ``n_columns`` even, ``block_size <= n_table_rows``.

    ``owner`` and ``kind`` name who takes the settings in the error ("The
    'n_columns' parameter of make_geneperm", "The 'n_columns' setting of
    geneperm_study").
    """
    if n_columns is not None and n_columns % 2:
        raise ValueError(
            f"The 'n_columns' {kind} of {owner} must be even so that table rows can "
            f"be balanced. Got {n_columns!r} instead."
        )
    if (
        block_size is not None
        and n_table_rows is not None
        and block_size > n_table_rows
    ):
        raise ValueError(
            f"The 'block_size' {kind} of {owner} must be at most "
            f"n_table_rows={n_table_rows}, since the rows of a block are distinct. "
            f"Got {block_size} instead."
        )


def _check_dtype(dtype):
    """Return the :class:`numpy.dtype` for an accepted ``dtype`` value, or raise.

    Only the spellings listed in ``make_geneperm``'s docstring are accepted. numpy
    itself reads ``None``, ``float``, ``"float"`` or ``"double"`` as float64, and
    ``np.dtype(None) == np.dtype("float64")`` is even true, so asking numpy whether
    a value is supported would let typos and foreign dtypes through.
    """
    if isinstance(dtype, np.dtype):
        accepted = [supported for supported in SUPPORTED_DTYPES if dtype == supported]
    elif isinstance(dtype, str):
        accepted = [
            supported for supported in SUPPORTED_DTYPES if dtype == supported.name
        ]
    elif isinstance(dtype, type):
        accepted = [
            supported for supported in SUPPORTED_DTYPES if dtype is supported.type
        ]
    else:
        accepted = []
    if not accepted:
        types = ", ".join(f"np.{supported.name}" for supported in SUPPORTED_DTYPES)
        names = ", ".join(repr(supported.name) for supported in SUPPORTED_DTYPES)
        raise ValueError(
            f"The 'dtype' parameter of make_geneperm must be one of {types}, their "
            f"np.dtype, or one of the names {names}. Got {dtype!r} instead."
        )
    return accepted[0]


def _check_table(table):
    """Validate a user table and return it as an int8 array.

    An int8 table is returned as it is (it is only read); any other is copied to
    int8. The table is checked a slice of rows at a time, so that checking takes
    little memory beyond the int8 copy.
    """
    array = np.asarray(table)
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 2:
        raise ValueError(
            "The 'table' parameter of make_geneperm must be a 2-D array with at "
            f"least one row and two columns. Got an array of shape {array.shape}."
        )
    if array.dtype.kind not in "iuf":
        raise ValueError(
            "The 'table' parameter of make_geneperm must hold numbers +1 and -1. "
            f"Got an array of dtype {array.dtype}."
        )
    checked = array if array.dtype == np.int8 else np.empty(array.shape, np.int8)
    rows_per_slice = max(1, _MAX_ENTRIES_PER_SLICE // array.shape[1])
    for start in range(0, array.shape[0], rows_per_slice):
        part = array[start : start + rows_per_slice]
        is_sign = (part == 1) | (part == -1)
        if not is_sign.all():
            row, column = np.argwhere(~is_sign)[0]
            raise ValueError(
                "The 'table' parameter of make_geneperm must contain only +1 and "
                f"-1. Got {part[row, column]!r} at row {start + row}, column "
                f"{column}."
            )
        row_sums = part.sum(axis=1, dtype=np.int64)
        if np.any(row_sums != 0):
            row = int(np.flatnonzero(row_sums)[0])
            raise ValueError(
                "The 'table' parameter of make_geneperm must have balanced rows (as "
                f"many +1 as -1 entries). Row {start + row} sums to {row_sums[row]}."
            )
        if checked is not array:
            checked[start : start + rows_per_slice] = part
    return checked


def _draw_table(n_table_rows, n_columns, rng):
    """Each row: ``n_columns / 2`` entries +1 at uniformly random places, -1 else."""
    half = n_columns // 2
    sorted_row = np.repeat(np.array([1, -1], dtype=np.int8), half)
    table = np.tile(sorted_row, (n_table_rows, 1))
    # In place: the same draws as a shuffled copy, without a second table in memory.
    rng.permuted(table, axis=1, out=table)
    return table


def _probability_all_distinct(n_choices, n_draws):
    """Probability that ``n_draws`` uniform draws from ``n_choices`` are distinct."""
    ratios = 1.0 - np.arange(n_draws) / n_choices
    return float(np.prod(ratios))


def _has_repeat(rows_by_position):
    """For each column of a (block_size, n) index array, whether a value repeats."""
    block_size = rows_by_position.shape[0]
    repeat = np.zeros(rows_by_position.shape[1], dtype=bool)
    for position in range(1, block_size):
        for earlier in range(position):
            repeat |= rows_by_position[position] == rows_by_position[earlier]
    return repeat


def _draw_distinct_rows(n_samples, block_size, n_table_rows, rng, max_keys):
    """Row indices of shape (n_samples, block_size), distinct within each sample.

    Every ordered tuple of distinct rows is equally likely. At most ``max_keys``
    random keys are held at a time. The rows drawn do not depend on ``max_keys``.
    """
    if _probability_all_distinct(n_table_rows, block_size) >= 0.5:
        # Rejection: draw with replacement and redraw every sample holding a repeat.
        # Conditioning on "all distinct" leaves the distinct tuples uniform, and with
        # acceptance >= 1/2 each round at least halves the expected number of redraws.
        # Rows are drawn position-major, (block_size, n_samples), so that comparing
        # two positions of every block reads two contiguous vectors.
        rows_by_position = rng.integers(0, n_table_rows, size=(block_size, n_samples))
        to_redraw = np.flatnonzero(_has_repeat(rows_by_position))
        while to_redraw.size:
            redrawn = rng.integers(0, n_table_rows, size=(block_size, to_redraw.size))
            rows_by_position[:, to_redraw] = redrawn
            to_redraw = to_redraw[_has_repeat(redrawn)]
        return np.ascontiguousarray(rows_by_position.T)
    # Large blocks relative to the table: the first block_size positions of a uniform
    # random ordering of all rows, computed from random keys a slice at a time.
    rows = np.empty((n_samples, block_size), dtype=np.intp)
    if n_table_rows > max_keys:
        for sample in range(n_samples):
            rows[sample] = _rows_with_smallest_keys(
                n_table_rows, block_size, rng, max_keys
            )
        return rows
    samples_per_slice = max_keys // n_table_rows
    for start in range(0, n_samples, samples_per_slice):
        stop = min(start + samples_per_slice, n_samples)
        keys = rng.random((stop - start, n_table_rows))
        chosen = np.argpartition(keys, block_size - 1, axis=1)[:, :block_size]
        order = np.argsort(np.take_along_axis(keys, chosen, axis=1), axis=1)
        rows[start:stop] = np.take_along_axis(chosen, order, axis=1)
    return rows


def _rows_with_smallest_keys(n_table_rows, block_size, rng, max_keys):
    """The ``block_size`` rows with the smallest of ``n_table_rows`` random keys,
    ordered by key.

    The keys are drawn ``max_keys`` at a time, keeping the smallest so far: the
    same draws, and the same rows, as drawing all keys at once.
    """
    best_keys = np.empty(0)
    best_rows = np.empty(0, dtype=np.intp)
    for start in range(0, n_table_rows, max_keys):
        keys = rng.random(min(max_keys, n_table_rows - start))
        if keys.size > block_size:
            chosen = np.argpartition(keys, block_size - 1)[:block_size]
        else:
            chosen = np.arange(keys.size)
        keys = np.concatenate([best_keys, keys[chosen]])
        rows = np.concatenate([best_rows, chosen + start])
        if keys.size > block_size:
            kept = np.argpartition(keys, block_size - 1)[:block_size]
            keys, rows = keys[kept], rows[kept]
        best_keys, best_rows = keys, rows
    return best_rows[np.argsort(best_keys)]


def _keys_per_slice(n_samples, block_size, n_table_rows, n_columns, dtype):
    """How many random keys ``_draw_distinct_rows`` may hold at a time."""
    table_bytes = n_table_rows * n_columns
    output_bytes = n_samples * block_size * n_columns * dtype.itemsize
    budget = (table_bytes + output_bytes) // 64
    return min(_MAX_KEYS_PER_SLICE, max(_MIN_KEYS_PER_SLICE, budget))


def _gather_blocks(table, rows, dtype):
    """``table[rows]`` in ``dtype``, from the int8 ``table``.

    Either the table or the gathered blocks are cast, whichever takes less
    memory in passing: a large table with few samples is never copied in full.
    """
    if table.shape[0] * dtype.itemsize <= rows.size:
        return np.take(table.astype(dtype, copy=False), rows, axis=0)
    return np.take(table, rows, axis=0).astype(dtype, copy=False)


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_columns": [Interval(Integral, 2, None, closed="left")],
        "block_size": [Interval(Integral, 1, None, closed="left")],
        "n_table_rows": [Interval(Integral, 1, None, closed="left")],
        "positive_fraction": [Interval(Real, 0, 1, closed="both")],
        "flatten": ["boolean"],
        "dtype": "no_validation",  # checked by _check_dtype, with its own message
        "table": ["array-like", None],
        "return_table": ["boolean"],
        "return_instance_labels": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_geneperm(
    n_samples=100,
    *,
    n_columns=_DEFAULT_N_COLUMNS,
    block_size=4,
    n_table_rows=_DEFAULT_N_TABLE_ROWS,
    positive_fraction=0.5,
    flatten=True,
    dtype=np.float32,
    table=None,
    return_table=False,
    return_instance_labels=False,
    random_state=None,
):
    """Generate the Gene-Perm binary classification problem.

    A fixed table of +-1 entries has balanced rows (as many +1 as -1). Each sample
    is a block of ``block_size`` distinct table rows. A positive sample (label 1)
    has one column of its block, chosen uniformly, overwritten with independent
    fair random signs; a negative sample (label 0) is left intact. Every single
    feature has the same distribution in both classes: the signal is that a row of
    a positive block may no longer be balanced.

    Read more in the :ref:`User Guide <generator>`.

    Parameters
    ----------
    n_samples : int, default=100
        The number of samples (blocks).

    n_columns : int, default=20
        The number of columns of the table, even and at least 2. When ``table`` is
        given its number of columns is used, and a different value passed here is
        an error.

    block_size : int, default=4
        The number of distinct table rows in each sample, between 1 and
        ``n_table_rows``.

    n_table_rows : int, default=1000
        The number of rows of the table. When ``table`` is given its number of
        rows is used, and a different value passed here is an error.

    positive_fraction : float, default=0.5
        The probability that a sample is positive.

    flatten : bool, default=True
        If True, ``X`` has shape ``(n_samples, block_size * n_columns)`` with the
        rows of a block laid end to end (row ``r`` is features ``r * n_columns``
        to ``(r + 1) * n_columns - 1``), ready for any scikit-learn estimator.
        If False, ``X`` has shape ``(n_samples, block_size, n_columns)``.

    dtype : {np.float32, np.float64, np.int8}, default=np.float32
        The data type of ``X`` (and of the returned table). ``float32`` is what
        PyTorch models take; ``int8`` takes a quarter of the memory. Each may be
        given as the numpy type (``np.float32``, or its alias ``np.single``), as
        its :class:`numpy.dtype` (``np.dtype("float32")``) or by its name
        (``"float32"``). Everything else is an error, including values numpy
        would read as one of these: ``None``, Python's ``float`` and ``int``,
        other names and codes (``"float"``, ``"double"``, ``"f4"``), non-native
        byte orders and torch dtypes.

    table : array-like of shape (n_table_rows, n_columns), default=None
        A table of +1/-1 entries with balanced rows, as returned with
        ``return_table=True``, to draw more samples from the same distribution
        (for instance a fresh test set). Any numpy array or view is accepted,
        whatever its memory layout (for instance ``table[::-1]``); an int8 table
        is read without being copied. If None, a new table is drawn.

    return_table : bool, default=False
        If True, also return the table.

    return_instance_labels : bool, default=False
        If True, also return the label of every row of every block: 1 where the
        row is unbalanced (its entries do not sum to 0), which makes Gene-Perm a
        multiple-instance problem with exact instance truth. Asking for them does
        not change ``X``, ``y`` or the table drawn for a given ``random_state``.

    random_state : int, RandomState instance or None, default=None
        Determines random number generation for the table and the samples.
        Pass an int for reproducible output across multiple function calls.
        See :term:`Glossary <random_state>`. With None the draws come from fresh
        operating-system entropy, and numpy's global random state is neither read
        nor advanced.

    Returns
    -------
    X : ndarray of shape (n_samples, block_size * n_columns) or \
            (n_samples, block_size, n_columns)
        The samples.

    y : ndarray of shape (n_samples,)
        The integer labels (0 or 1) of the samples.

    instance_labels : ndarray of shape (n_samples, block_size), dtype int8
        ``instance_labels[i, r]`` is 1 when row ``r`` of block ``i`` is
        unbalanced after the column was overwritten (``X[i, r].sum() != 0`` in
        the 3-D layout), else 0. It is always 0 in a negative block; in a positive
        block each row is unbalanced with probability 1/2, and a positive block
        has at least one unbalanced row with probability ``1 - 2**-block_size``.
        Only returned if ``return_instance_labels`` is True; it comes right
        after ``y``, before ``table``.

    table : ndarray of shape (n_table_rows, n_columns)
        The table the blocks are drawn from. Only returned if ``return_table``
        is True; it comes last, so that with both flags
        ``X, y, instance_labels, table = make_geneperm(..., return_table=True,
        return_instance_labels=True)``.

    See Also
    --------
    bayes_accuracy : The best accuracy any classifier can reach on this data.
    AbsMeanClassifier : A model with the inductive bias that solves the problem.

    Notes
    -----
    Every table row ``t`` has ``sum(t) = 0``. A row ``x`` of a positive block has
    one entry replaced by a fair sign, so ``sum(x)`` is ``0`` or ``+-2``. Since
    ``sum(x)**2 = n_columns + 2 * sum_{i<k} x_i x_k``, the signal lives in pairwise
    products within a row: each feature alone, and so any linear model, carries no
    information about the label. The rows of a block are distinct table rows;
    rows may repeat across samples.

    The table is held as int8 and blocks are gathered from it before they are
    converted to ``dtype`` when that takes less memory, so drawing a few samples
    from a table of millions of rows takes little more memory than the int8 table.
    Only with ``return_table=True`` is the whole table converted to ``dtype``.

    Examples
    --------
    >>> from geneperm_sk import make_geneperm
    >>> X, y = make_geneperm(n_samples=6, n_columns=4, block_size=2, random_state=0)
    >>> X.shape, y.shape
    ((6, 8), (6,))
    >>> X, y, table = make_geneperm(
    ...     n_samples=6, n_columns=4, block_size=2, flatten=False, return_table=True,
    ...     random_state=0)
    >>> X.shape, table.shape
    ((6, 2, 4), (1000, 4))
    >>> float(table.sum(axis=1).max())
    0.0

    Instance labels mark the unbalanced rows, only ever in positive blocks:

    >>> X, y, instance_labels = make_geneperm(
    ...     n_samples=4, n_columns=4, block_size=3, flatten=False,
    ...     return_instance_labels=True, random_state=0)
    >>> instance_labels.shape
    (4, 3)
    >>> bool(((X.sum(axis=2) != 0) == instance_labels).all())
    True
    >>> bool(instance_labels[y == 0].any())
    False
    """
    dtype = _check_dtype(dtype)
    table_is_given = table is not None
    if table_is_given:
        table = _check_table(table)
        for name, value, axis in (
            ("n_columns", n_columns, 1),
            ("n_table_rows", n_table_rows, 0),
        ):
            if not isinstance(value, _DefaultInt) and value != table.shape[axis]:
                raise ValueError(
                    f"The 'table' parameter of make_geneperm has {table.shape[axis]} "
                    f"{name.removeprefix('n_').replace('_', ' ')}, which sets "
                    f"'{name}'; got the conflicting {name}={value!r}."
                )
        n_table_rows, n_columns = table.shape
    else:
        check_table_settings(n_columns=n_columns, block_size=block_size)
    n_table_rows, n_columns = int(n_table_rows), int(n_columns)
    n_samples, block_size = int(n_samples), int(block_size)
    check_table_settings(block_size=block_size, n_table_rows=n_table_rows)

    if random_state is None:
        # Fresh entropy; check_random_state(None) would hand out numpy's global
        # RandomState and advance it.
        rng = np.random.default_rng()
    else:
        rng = np.random.default_rng(check_random_state(random_state).randint(2**32))
    if table is None:
        table = _draw_table(n_table_rows, n_columns, rng)
    max_keys = _keys_per_slice(n_samples, block_size, n_table_rows, n_columns, dtype)
    rows = _draw_distinct_rows(n_samples, block_size, n_table_rows, rng, max_keys)
    y = (rng.random(n_samples) < positive_fraction).astype(np.int64)

    X = _gather_blocks(table, rows, dtype)
    positives = np.flatnonzero(y)
    overwritten_column = rng.integers(0, n_columns, size=positives.size)
    random_signs = (
        2 * rng.integers(0, 2, size=(positives.size, block_size), dtype=np.int8) - 1
    )
    overwritten_rows = positives[:, None] * block_size + np.arange(block_size)
    overwritten_entries = overwritten_rows * n_columns + overwritten_column[:, None]
    X.reshape(-1)[overwritten_entries] = random_signs

    outputs = [X.reshape(n_samples, block_size * n_columns) if flatten else X, y]
    if return_instance_labels:
        # A table row sums to 0, so a row becomes unbalanced exactly when its
        # overwritten entry differs from the table's: one comparison per entry
        # overwritten, no pass over X.
        instance_labels = np.zeros((n_samples, block_size), dtype=np.int8)
        original = table[rows[positives], overwritten_column[:, None]]
        instance_labels[positives] = random_signs != original
        outputs.append(instance_labels)
    if return_table:
        # A copy when the table is the caller's: the result never aliases the input.
        outputs.append(table.astype(dtype, copy=table_is_given))
    return tuple(outputs)

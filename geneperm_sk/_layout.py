"""Reading samples as blocks of rows: the input conventions every estimator shares.

A sample is a block of ``block_size`` rows of ``n_columns`` features, given either
as 3-D ``X`` of shape ``(n_samples, block_size, n_columns)`` or as 2-D ``X`` of
shape ``(n_samples, block_size * n_columns)`` with the rows laid end to end, in
which case exactly one of ``block_size`` and ``n_columns`` says how to split it.
A sample can also be a bag of any number of rows: ``X`` is then a sequence of
2-D arrays, held internally as :class:`Bags` (the rows once, with bag offsets).
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse
from sklearn.utils import assert_all_finite

__all__ = [
    "Bags",
    "bags_from_blocks",
    "check_bags",
    "check_finite_bags",
    "check_finite_blocks",
    "check_fitted_layout",
    "is_bag_sequence",
    "resolve_layout",
    "split_layout",
    "surely_finite",
]


def split_layout(X, owner):
    """Return ``(X, layout)``: 3-D input reshaped to 2-D with its layout
    ``(block_size, n_columns)``, other input unchanged with layout None.

    Input of more than 3 dimensions is an error naming ``owner``, the estimator.
    """
    if isinstance(X, list | tuple):
        X = np.asarray(X)
    ndim = None if scipy.sparse.issparse(X) else getattr(X, "ndim", None)
    if ndim is not None and ndim > 3:
        raise ValueError(
            f"{owner} takes X of shape (n_samples, block_size * n_columns) or "
            f"(n_samples, block_size, n_columns); got a {ndim}-D array of shape "
            f"{tuple(X.shape)}."
        )
    if ndim != 3:
        return X, None
    layout = tuple(int(size) for size in X.shape[1:])
    return X.reshape(X.shape[0], -1), layout


def resolve_layout(owner, block_size, n_columns, layout, n_features):
    """Work out ``(block_size, n_columns)`` for fit from the parameters and data.

    ``layout`` is what :func:`split_layout` returned for the training data and
    ``n_features`` the width of its 2-D form.
    """
    if layout is not None:
        for name, value, size in zip(
            ("block_size", "n_columns"), (block_size, n_columns), layout, strict=True
        ):
            if value is not None and value != size:
                raise ValueError(
                    f"{owner} got 3-D X of shape (n_samples, {layout[0]}, "
                    f"{layout[1]}), which sets {name}={size}, but {name}={value} was "
                    "given."
                )
        return layout
    if (block_size is None) == (n_columns is None):
        raise ValueError(
            f"{owner} needs exactly one of block_size and n_columns to split 2-D X "
            "of shape (n_samples, block_size * n_columns) into rows; got "
            f"block_size={block_size} and n_columns={n_columns}. Pass one of them, "
            "or 3-D X of shape (n_samples, block_size, n_columns)."
        )
    given_name, given = (
        ("block_size", block_size)
        if block_size is not None
        else ("n_columns", n_columns)
    )
    if n_features % given:
        raise ValueError(
            f"{owner} got X with {n_features} features, which is not a multiple of "
            f"{given_name}={given}."
        )
    inferred = n_features // given
    if block_size is not None:
        return given, inferred
    return inferred, given


def check_fitted_layout(owner, fitted_layout, layout):
    """Refuse 3-D prediction input whose layout differs from the fitted one."""
    if layout is not None and layout != tuple(fitted_layout):
        raise ValueError(
            f"{owner} was fitted on blocks of {fitted_layout[0]} rows of "
            f"{fitted_layout[1]} columns, but got 3-D X of shape (n_samples, "
            f"{layout[0]}, {layout[1]})."
        )


# -- bags of any size ---------------------------------------------------------------


class Bags(NamedTuple):
    """Bags of rows held once: the rows of every bag laid end to end.

    Bag ``i`` is ``rows[offsets[i]:offsets[i + 1]]``; ``offsets`` has one entry
    more than there are bags, starts at 0 and ends at ``len(rows)``.
    """

    rows: np.ndarray
    offsets: np.ndarray

    @property
    def n_bags(self):
        return len(self.offsets) - 1

    @property
    def sizes(self):
        """The number of rows of each bag, shape ``(n_bags,)``."""
        return np.diff(self.offsets)

    def bag(self, index):
        """The rows of bag ``index``: a view into ``rows``."""
        return self.rows[self.offsets[index] : self.offsets[index + 1]]


def is_bag_sequence(X):
    """Whether ``X`` is a sequence of bags: a list, a tuple or a 1-D object array
    whose first element is 2-D (a bag of rows). Arrays of numbers, and lists of
    numbers or of rows, are not: they keep the fixed-size conventions.
    """
    if isinstance(X, np.ndarray):
        if X.dtype != object or X.ndim != 1 or len(X) == 0:
            return False
    elif not isinstance(X, list | tuple) or len(X) == 0:
        return False
    return np.ndim(X[0]) == 2 or any(np.ndim(bag) == 2 for bag in X)


def _describe_element(element):
    if hasattr(element, "shape"):
        return f"{type(element).__name__} of shape {tuple(element.shape)}"
    return f"{type(element).__name__} with {np.ndim(element)} dimensions"


def check_bags(X, owner, *, dtype=("float32", "float64", "int8"), n_columns=None):
    """Validate a sequence of bags and return it as :class:`Bags`.

    Every bag must be 2-D with at least one row and the same number of columns
    (``n_columns`` when given, the fitted number, say). The rows of all bags are
    concatenated once into one array: of the dtype numpy promotes the bags'
    dtypes to when it is in ``dtype``, float32 otherwise. Errors name ``X``, the
    offending bag's index and what was expected, and come before any copy.
    """
    if isinstance(X, np.ndarray) and (X.dtype != object or X.ndim != 1):
        raise ValueError(
            f"{owner} takes X as a sequence of bags (a list or 1-D object array of "
            f"2-D arrays); got an array of shape {X.shape} and dtype {X.dtype}."
        )
    if len(X) == 0:
        raise ValueError(f"{owner} got X with no bags; at least one is needed.")
    bags = []
    for index, bag in enumerate(X):
        if not hasattr(bag, "shape") or not hasattr(bag, "dtype"):
            try:
                bag = np.asarray(bag)
            except ValueError as error:  # ragged nested lists
                raise ValueError(
                    f"{owner} got X[{index}] that is not a 2-D array of rows ({error})."
                ) from None
        if scipy.sparse.issparse(bag):
            raise TypeError(
                f"{owner} takes bags as dense 2-D arrays; X[{index}] is a sparse "
                "matrix. Convert it with .toarray()."
            )
        if bag.ndim != 2:
            raise ValueError(
                f"{owner} takes X as a sequence of 2-D bags of shape (n_rows, "
                f"n_columns); X[{index}] is a {_describe_element(bag)}, so X "
                "mixes bags with something else."
            )
        if bag.shape[0] == 0:
            raise ValueError(
                f"{owner} got an empty bag: X[{index}] has shape {tuple(bag.shape)}; "
                "every bag needs at least one row."
            )
        expected = n_columns
        if expected is None and bags:
            expected = bags[0].shape[1]
        if expected is not None and bag.shape[1] != expected:
            what = "the fitted" if n_columns is not None else "X[0]'s"
            raise ValueError(
                f"{owner} got bags with different numbers of columns: X[{index}] has "
                f"shape {tuple(bag.shape)}, but {what} number of columns is "
                f"{expected}."
            )
        if bag.dtype.kind not in "biuf":
            raise ValueError(
                f"{owner} takes real numeric bags; X[{index}] has dtype {bag.dtype}."
            )
        bags.append(bag)
    dtypes = {np.dtype(bag.dtype) for bag in bags}
    kept = {np.dtype(name) for name in dtype}
    common = np.result_type(*dtypes)
    if common not in kept:
        common = np.dtype(np.float32)
    sizes = np.fromiter((len(bag) for bag in bags), dtype=np.int64, count=len(bags))
    offsets = np.zeros(len(bags) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    rows = np.empty((int(offsets[-1]), bags[0].shape[1]), dtype=common)
    for bag, start, stop in zip(bags, offsets[:-1], offsets[1:], strict=True):
        rows[start:stop] = bag
    return Bags(rows, offsets)


def bags_from_blocks(blocks):
    """Equal-size blocks, 3-D of shape ``(n_blocks, block_size, n_columns)``, as
    :class:`Bags` sharing their memory."""
    n_blocks, block_size, n_columns = blocks.shape
    offsets = np.arange(n_blocks + 1, dtype=np.int64) * block_size
    return Bags(blocks.reshape(n_blocks * block_size, n_columns), offsets)


def surely_finite(values):
    """Whether a cheap test proves that the array ``values`` holds no NaN or
    infinity: its sum of squares, one BLAS dot product, is finite.

    False means "look at each value": a value is not finite, or the squares
    overflowed, or ``values`` is not a C-contiguous float array. It reads the
    data once, faster than scikit-learn's test (a numpy sum) and than an
    elementwise ``isfinite``, which also makes a boolean array the size of
    ``values`` (the "input check" of benchmarks/bench_fit_scale.py).
    """
    if values.dtype.kind != "f" or not values.flags.c_contiguous:
        return False
    flat = values.reshape(-1)
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.dot(flat, flat)))


def check_finite_blocks(X, owner):
    """scikit-learn's refusal of NaN and infinity in ``X``, with its errors,
    once ``surely_finite`` could not prove there are none."""
    if X.dtype.kind == "f" and not surely_finite(X):
        assert_all_finite(X, estimator_name=owner, input_name="X")


def check_finite_bags(bags, owner):
    """Refuse bags holding NaN or infinity, naming the first such bag."""
    rows = bags.rows
    if rows.dtype.kind != "f" or surely_finite(rows):
        return
    finite = np.isfinite(rows).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        bag = int(np.searchsorted(bags.offsets, row, side="right")) - 1
        raise ValueError(
            f"{owner} takes finite rows; X[{bag}] holds NaN or infinity (its row "
            f"{row - int(bags.offsets[bag])})."
        )

"""RowSecondMoments: blocks of rows mapped to the mean of their rows' pair products."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_array,
    check_is_fitted,
    validate_data,
)

from ._layout import (
    check_bags,
    check_fitted_layout,
    is_bag_sequence,
    resolve_layout,
    split_layout,
)

__all__ = ["RowSecondMoments"]

# Samples are converted to float64 and multiplied this many input entries at a time:
# the working copy stays in the processor's cache whatever the input's size and
# dtype (measured fastest of 2**14, 2**16, 2**18 and 2**20 entries).
_CHUNK_ENTRIES = 1 << 16

# Bags of these dtypes are pooled as they come (converted to float64 a chunk at a
# time); bags of other or mixed dtypes are first gathered as float32.
_BAG_DTYPES = ("float64", "float32", "int8", "int16", "int32", "int64")


def _forget_fit(estimator, names):
    """Remove the fitted attributes ``names`` that ``estimator`` holds."""
    for name in names:
        estimator.__dict__.pop(name, None)


def _pair_moments(rows, first_offset, segment_sum, out):
    """Fill ``out`` with the segment sums of the rows' pair products, pair by pair
    in the order of ``np.triu_indices``: for each column i, the products with the
    columns from ``i + first_offset`` on. Only the pairs that are kept are
    multiplied; ``segment_sum(column, partners, out)`` sums them over each
    sample's rows."""
    n_columns = rows.shape[-1]
    position = 0
    for column in range(n_columns - first_offset):
        partners = rows[..., column + first_offset :]
        width = partners.shape[-1]
        segment_sum(rows[..., column], partners, out[:, position : position + width])
        position += width


def _n_pairs(n_columns, include_diagonal):
    return n_columns * (n_columns - 1) // 2 + (n_columns if include_diagonal else 0)


def _sum_over_block_rows(column, partners, out):
    np.einsum("nr,nrk->nk", column, partners, out=out)


def _pooled_row_second_moments(X, block_size, n_columns, include_diagonal):
    """``mean_r x_ri * x_rk`` for each sample of 2-D ``X`` and each column pair
    ``i < k`` (``i <= k`` with the diagonal), in the order of ``np.triu_indices``."""
    first_offset = 0 if include_diagonal else 1
    moments = np.empty((X.shape[0], _n_pairs(n_columns, include_diagonal)))
    samples_per_chunk = max(1, _CHUNK_ENTRIES // (block_size * n_columns))
    for start in range(0, X.shape[0], samples_per_chunk):
        stop = start + samples_per_chunk
        blocks = np.asarray(X[start:stop], dtype=np.float64).reshape(
            -1, block_size, n_columns
        )
        _pair_moments(blocks, first_offset, _sum_over_block_rows, moments[start:stop])
    moments /= block_size
    return moments


def _bag_chunks(offsets, rows_per_chunk):
    """``(first_bag, stop_bag)`` ranges of whole consecutive bags holding at most
    ``rows_per_chunk`` rows each, or a single bag where one is larger."""
    n_bags = len(offsets) - 1
    start = 0
    while start < n_bags:
        stop = int(np.searchsorted(offsets, offsets[start] + rows_per_chunk, "right"))
        stop = min(max(stop - 1, start + 1), n_bags)
        yield start, stop
        start = stop


def _pooled_bag_second_moments(bags, include_diagonal):
    """:func:`_pooled_row_second_moments` for :class:`Bags`: the mean over each
    bag's rows, summed by segment, whole bags at a time. A bag's sums are taken
    in the order of its rows whatever the other bags, so its output does not
    depend on them, to the bit."""
    rows, offsets = bags
    n_columns = rows.shape[1]
    sizes = bags.sizes
    first_offset = 0 if include_diagonal else 1
    moments = np.empty((len(sizes), _n_pairs(n_columns, include_diagonal)))
    for start, stop in _bag_chunks(offsets, max(1, _CHUNK_ENTRIES // n_columns)):
        first_row = offsets[start]
        chunk_rows = np.asarray(rows[first_row : offsets[stop]], dtype=np.float64)
        segment_starts = offsets[start:stop] - first_row

        def sum_over_bag_rows(column, partners, out, segment_starts=segment_starts):
            np.add.reduceat(column[:, None] * partners, segment_starts, axis=0, out=out)

        _pair_moments(chunk_rows, first_offset, sum_over_bag_rows, moments[start:stop])
    moments /= sizes[:, None]
    return moments


class RowSecondMoments(TransformerMixin, BaseEstimator):
    """Map each block of rows to the mean over its rows of the rows' pair products.

    Each sample is a block of ``block_size`` rows of ``n_columns`` features. For
    every pair of columns ``i < k`` the transformer outputs the mean over the
    block's rows of ``x_ri * x_rk``: the strict upper triangle of the pooled
    second-moment matrix ``mean_r x_r x_r'``, ``n_columns * (n_columns - 1) / 2``
    features. It carries two parts of the inductive bias of
    :class:`AbsMeanClassifier`: the features are quadratic in each row, and they
    do not change when the rows of a block are permuted. ``X`` may also be a
    sequence of bags of any number of rows (see ``fit``): each bag is mapped to
    the mean over its rows, and a bag's output does not depend on the other bags
    transformed with it. With
    :class:`~sklearn.linear_model.LogisticRegression` on top it can represent the
    Bayes-optimal rule of the Gene-Perm problem (see :func:`make_geneperm`).

    Parameters
    ----------
    block_size : int, default=None
        The number of rows per sample. With 2-D ``X`` of shape
        ``(n_samples, block_size * n_columns)``, exactly one of ``block_size`` and
        ``n_columns`` must be given and the other is inferred from the width of
        ``X``. With 3-D ``X`` of shape ``(n_samples, block_size, n_columns)``
        neither is needed, and a given value must agree with the shape.

    n_columns : int, default=None
        The number of features per row. See ``block_size``.

    include_diagonal : bool, default=False
        If True, also output the mean squares ``mean_r x_ri**2``, giving
        ``n_columns * (n_columns + 1) / 2`` features. On +-1 data such as
        Gene-Perm's they are all 1, hence the default. Without the diagonal a row
        needs at least two columns.

    Attributes
    ----------
    n_features_in_ : int
        The number of features of 2-D ``X`` (``block_size_ * n_columns_``), or
        ``n_columns_`` after a fit on bags.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    block_size_ : int or None
        The number of rows per sample; None after a fit on bags, whose sizes
        vary.

    n_columns_ : int
        The number of features per row.

    See Also
    --------
    AbsMeanClassifier : The model with the whole inductive bias, which needs far
        fewer samples on Gene-Perm.
    sklearn.preprocessing.PolynomialFeatures : Degree-2 products of all features,
        which knows nothing of rows.

    Notes
    -----
    For a block ``x`` with rows ``x_1, ..., x_b`` the output holds, in the order of
    ``numpy.triu_indices(n_columns, 1)`` (or ``numpy.triu_indices(n_columns)`` with
    the diagonal),

    ``m_ik = (1 / b) * sum_r x_ri * x_rk``.

    On Gene-Perm, a row's squared sum is
    ``(sum_i x_ri)**2 = n_columns + 2 * sum_{i<k} x_ri * x_rk``, so the block
    score ``mean_r (sum_i x_ri)**2`` is a linear function of the output, and it is
    ``0`` exactly for blocks whose rows are all balanced. A linear model on these
    features can therefore represent the Bayes-optimal rule, but it has
    ``n_columns * (n_columns - 1) / 2`` weights to learn and needs on the order of
    that many samples, where :class:`AbsMeanClassifier` needs about
    ``n_columns / block_size``.

    The products are computed in float64, a slice of samples at a time, pair by
    pair without forming the full ``n_columns x n_columns`` matrices.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from geneperm_sk import RowSecondMoments, make_geneperm
    >>> X, y, table = make_geneperm(
    ...     2000, n_columns=20, block_size=4, return_table=True, random_state=0)
    >>> RowSecondMoments(n_columns=20).fit_transform(X).shape
    (2000, 190)
    >>> model = make_pipeline(
    ...     RowSecondMoments(n_columns=20),
    ...     StandardScaler(),
    ...     LogisticRegression(C=100, max_iter=1000),
    ... ).fit(X, y)
    >>> X_test, y_test = make_geneperm(5000, block_size=4, table=table, random_state=1)
    >>> bool(model.score(X_test, y_test) > 0.9)
    True
    """

    _parameter_constraints: dict = {
        "block_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_columns": [Interval(Integral, 1, None, closed="left"), None],
        "include_diagonal": ["boolean"],
    }

    def __init__(self, *, block_size=None, n_columns=None, include_diagonal=False):
        self.block_size = block_size
        self.n_columns = n_columns
        self.include_diagonal = include_diagonal

    def fit(self, X, y=None):
        """Learn the layout of the blocks, or the number of columns of the bags.

        Parameters
        ----------
        X : array-like of shape (n_samples, block_size * n_columns) or \
                (n_samples, block_size, n_columns), or sequence of bags
            The blocks, or bags: a list (or 1-D object array) of 2-D arrays of
            shape ``(n_rows_i, n_columns)`` with any ``n_rows_i >= 1``.

        y : None
            Ignored.

        Returns
        -------
        self : RowSecondMoments
            The fitted transformer.
        """
        # A fit that fails leaves no fitted attribute behind, not even those of
        # an earlier fit: the transformer then reads as unfitted.
        try:
            return self._fit(X)
        except BaseException:
            _forget_fit(self, self._fitted_attributes)
            raise

    _fitted_attributes = (
        "n_features_in_",
        "feature_names_in_",
        "block_size_",
        "n_columns_",
    )

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X):
        _forget_fit(self, self._fitted_attributes)
        if is_bag_sequence(X):
            bags = check_bags(X, "RowSecondMoments", dtype=_BAG_DTYPES)
            block_size, n_columns = self._bag_layout(bags)
        else:
            X, layout = split_layout(X, "RowSecondMoments")
            X = validate_data(self, X, dtype="numeric")
            block_size, n_columns = resolve_layout(
                "RowSecondMoments", self.block_size, self.n_columns, layout, X.shape[1]
            )
        if n_columns < 2 and not self.include_diagonal:
            raise ValueError(
                "RowSecondMoments with include_diagonal=False pairs distinct columns "
                "of each row, so it needs n_columns >= 2; got rows of 1 feature(s) "
                "(n_columns=1). Pass include_diagonal=True to output the mean "
                "squares, or split X into wider rows."
            )
        if block_size is None:
            self.n_features_in_ = n_columns
        self.block_size_, self.n_columns_ = block_size, n_columns
        return self

    def _bag_layout(self, bags):
        """``(None, n_columns)`` for bags, checked against the parameters."""
        n_columns = bags.rows.shape[1]
        if self.n_columns is not None and self.n_columns != n_columns:
            raise ValueError(
                f"RowSecondMoments got bags of {n_columns} columns, but "
                f"n_columns={self.n_columns} was given."
            )
        if self.block_size is not None:
            sizes = bags.sizes
            other = np.flatnonzero(sizes != self.block_size)
            if other.size:
                raise ValueError(
                    f"RowSecondMoments was given block_size={self.block_size}, but "
                    f"bag X[{other[0]}] has {sizes[other[0]]} rows. Bags may have "
                    "any number of rows: leave block_size=None for bags."
                )
        return None, n_columns

    def transform(self, X):
        """Map each block or bag to the mean over its rows of the pair products.

        Parameters
        ----------
        X : array-like of shape (n_samples, block_size_ * n_columns_) or \
                (n_samples, block_size_, n_columns_), or sequence of bags
            The blocks, or bags of any number of rows of ``n_columns_`` columns.
            Bags are taken whatever the fit saw; after a fit on bags, blocks are
            taken in the 3-D layout (the flat one does not say where rows end).

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out)
            The pooled row second moments in float64, named by
            :meth:`get_feature_names_out`; ``n_features_out`` is
            ``n_columns_ * (n_columns_ - 1) / 2``, or
            ``n_columns_ * (n_columns_ + 1) / 2`` with the diagonal.
        """
        check_is_fitted(self)
        if is_bag_sequence(X):
            bags = check_bags(
                X, "RowSecondMoments", dtype=_BAG_DTYPES, n_columns=self.n_columns_
            )
            return _pooled_bag_second_moments(bags, self.include_diagonal)
        X, layout = split_layout(X, "RowSecondMoments")
        if self.block_size_ is None:
            if layout is None:
                raise ValueError(
                    "RowSecondMoments was fitted on bags, so it takes bags or 3-D X "
                    "of shape (n_samples, block_size, n_columns); got X of shape "
                    f"{getattr(X, 'shape', None)}, which does not say where rows "
                    "end."
                )
            if layout[1] != self.n_columns_:
                raise ValueError(
                    f"RowSecondMoments was fitted on bags of {self.n_columns_} "
                    f"columns, but got 3-D X of shape (n_samples, {layout[0]}, "
                    f"{layout[1]})."
                )
            X = check_array(X, dtype="numeric")
            return _pooled_row_second_moments(
                X, layout[0], self.n_columns_, self.include_diagonal
            )
        check_fitted_layout(
            "RowSecondMoments", (self.block_size_, self.n_columns_), layout
        )
        X = validate_data(self, X, dtype="numeric", reset=False)
        return _pooled_row_second_moments(
            X, self.block_size_, self.n_columns_, self.include_diagonal
        )

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the names seen in fit (or their number): an
            output feature involves one column of every row, not one input
            feature.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``"rowsecondmoments_i_k"`` for the mean over rows of the product of
            columns ``i`` and ``k`` of a row, in the order of the output.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features, generate_names=False)
        offset = 0 if self.include_diagonal else 1
        rows, columns = np.triu_indices(self.n_columns_, offset)
        return np.asarray(
            [f"rowsecondmoments_{i}_{k}" for i, k in zip(rows, columns, strict=True)],
            dtype=object,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

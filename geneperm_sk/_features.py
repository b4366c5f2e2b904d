"""Transformers of blocks and bags of rows: pooled row second moments, pooled
row statistics, and any row transformer applied to the rows of bags."""

import functools
from numbers import Integral

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_array,
    check_is_fitted,
    validate_data,
)

from ._layout import (
    bags_from_blocks,
    check_bags,
    check_finite_bags,
    check_fitted_layout,
    is_bag_sequence,
    resolve_layout,
    split_layout,
)

__all__ = ["BagPooling", "BagRowTransformer", "RowSecondMoments"]

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


def _unfitted_on_error(*names):
    """Decorate a fitting method so that it starts from no fitted attribute
    ``names`` and, if it raises (bad parameters or data), leaves none behind:
    the estimator then reads as unfitted, not as a mix of two fits."""

    def decorate(method):
        @functools.wraps(method)
        def fitting(self, *args, **kwargs):
            _forget_fit(self, names)
            try:
                return method(self, *args, **kwargs)
            except BaseException:
                _forget_fit(self, names)
                raise

        return fitting

    return decorate


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

    Read more in the :ref:`User Guide <ladder_rungs>`.

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

    Bags of any number of rows are taken as a list of 2-D arrays:

    >>> bags = [X_test[0].reshape(4, 20)[:3], X_test[1].reshape(4, 20)]
    >>> RowSecondMoments().fit_transform(bags).shape
    (2, 190)
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

    @_unfitted_on_error(
        "n_features_in_", "feature_names_in_", "block_size_", "n_columns_"
    )
    @_fit_context(prefer_skip_nested_validation=True)
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
        if is_bag_sequence(X):
            bags = check_bags(X, "RowSecondMoments", dtype=_BAG_DTYPES)
            check_finite_bags(bags, "RowSecondMoments")
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
            check_finite_bags(bags, "RowSecondMoments")
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


# -- transformers for bags ------------------------------------------------------------


def _bags_or_blocks(X, owner, *, n_columns=None):
    """Read ``X`` as bags: a sequence of 2-D bags, or 3-D equal-size blocks.

    Returns ``(bags, block_shape)``: :class:`Bags`, and ``(n_blocks, block_size)``
    for 3-D input (its rows are a view where the array allows it), None for a
    sequence of bags. ``n_columns``, the fitted number of columns, is checked.
    """
    if is_bag_sequence(X) or (isinstance(X, list | tuple) and len(X) == 0):
        return check_bags(X, owner, dtype=_BAG_DTYPES, n_columns=n_columns), None
    if scipy.sparse.issparse(X):
        raise TypeError(
            f"{owner} takes X as a sequence of dense 2-D bags or as a dense 3-D "
            "array; got a sparse matrix."
        )
    array = np.asarray(X)
    if array.ndim != 3:
        hint = (
            " A 2-D array does not say where one bag's rows end: pass the bags as "
            "a list of 2-D arrays, or equal-size blocks as 3-D X."
            if array.ndim == 2
            else ""
        )
        raise ValueError(
            f"{owner} takes X as a sequence of bags (a list or 1-D object array of "
            "2-D arrays of shape (n_rows, n_columns)) or as 3-D X of shape "
            f"(n_samples, block_size, n_columns); got an array of shape "
            f"{array.shape}.{hint}"
        )
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"{owner} takes numeric X; got dtype {array.dtype}.")
    if 0 in array.shape:
        raise ValueError(
            f"{owner} got 3-D X of shape {array.shape}; it needs at least one "
            "sample, one row and one column."
        )
    if n_columns is not None and array.shape[2] != n_columns:
        raise ValueError(
            f"{owner} was fitted on rows of {n_columns} columns, but got 3-D X of "
            f"shape {array.shape}."
        )
    return bags_from_blocks(array), array.shape[:2]


class BagRowTransformer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Apply a row transformer to the rows of bags.

    Each sample is a bag of rows. ``fit`` fits a clone of ``transformer`` (any
    scikit-learn transformer of 2-D data, such as
    :class:`~sklearn.preprocessing.StandardScaler` or
    :class:`~sklearn.decomposition.PCA`) on the rows of all training bags at
    once; ``transform`` transforms every row and returns bags of the same sizes.
    In a pipeline the row transformer is fitted on the training bags only, so
    ``make_pipeline(BagRowTransformer(StandardScaler()), <a bag classifier>)`` is
    cross-validated honestly, where scaling all bags beforehand would leak the
    test folds' rows into the scaling.

    Read more in the :ref:`User Guide <mil_transformers>`.

    Parameters
    ----------
    transformer : estimator object
        A transformer with ``fit`` and ``transform`` that maps each row (a 2-D
        array of shape ``(n_rows, n_columns)``) to one output row. It is cloned,
        and fitted without targets: a bag's label is not a label of its rows.

    Attributes
    ----------
    transformer_ : estimator object
        The clone of ``transformer`` fitted on the rows of the training bags.

    n_columns_ : int
        The number of columns of the rows seen during fit.

    n_features_in_ : int
        The same as ``n_columns_``: the features of a row.

    See Also
    --------
    BagPooling : Pool each bag's rows into one vector of statistics.
    RowSecondMoments : Pool each bag's rows into their mean pair products.

    Notes
    -----
    ``X`` may be a sequence of bags (a list or 1-D object array of 2-D arrays of
    shape ``(n_rows_i, n_columns)``, any ``n_rows_i >= 1``) or 3-D equal-size
    blocks of shape ``(n_samples, block_size, n_columns)``. The rows of all bags
    are gathered into one array once, and the row transformer sees them in one
    call, whatever the number of bags. Its output must be dense, with one row per
    input row.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import StandardScaler
    >>> from geneperm_sk import BagRowTransformer
    >>> bags = [np.array([[1.0, 10.0], [3.0, 30.0]]), np.array([[2.0, 20.0]])]
    >>> scaler = BagRowTransformer(StandardScaler()).fit(bags)
    >>> [bag.shape for bag in scaler.transform(bags)]
    [(2, 2), (1, 2)]
    >>> scaler.transform(bags)[0]
    array([[-1.22474487, -1.22474487],
           [ 1.22474487,  1.22474487]])
    >>> scaler.transformer_.mean_
    array([ 2., 20.])
    """

    _parameter_constraints: dict = {
        "transformer": [HasMethods(["fit", "transform"])],
    }

    def __init__(self, transformer):
        self.transformer = transformer

    def fit(self, X, y=None):
        """Fit a clone of ``transformer`` on the rows of the bags.

        Parameters
        ----------
        X : sequence of bags, or array-like of shape \
                (n_samples, block_size, n_columns)
            The bags: a list (or 1-D object array) of 2-D arrays of shape
            ``(n_rows_i, n_columns)``, or equal-size blocks.

        y : None
            Ignored.

        Returns
        -------
        self : BagRowTransformer
            The fitted transformer.
        """
        self._fit(X, transform=False)
        return self

    def fit_transform(self, X, y=None):
        """Fit on the rows of the bags and transform them, in one pass.

        Parameters
        ----------
        X : sequence of bags, or array-like of shape \
                (n_samples, block_size, n_columns)
            The bags.

        y : None
            Ignored.

        Returns
        -------
        X_new : list of ndarray, or ndarray of shape \
                (n_samples, block_size, n_columns_out)
            The transformed bags, as :meth:`transform` returns them.
        """
        return self._fit(X, transform=True)

    @_unfitted_on_error("transformer_", "n_columns_", "n_features_in_")
    @_fit_context(prefer_skip_nested_validation=False)
    def _fit(self, X, transform):
        bags, block_shape = _bags_or_blocks(X, "BagRowTransformer")
        transformer = clone(self.transformer)
        if transform:
            rows = transformer.fit_transform(bags.rows)
        else:
            transformer.fit(bags.rows)
        self.transformer_ = transformer
        self.n_columns_ = self.n_features_in_ = bags.rows.shape[1]
        if transform:
            return self._split(rows, bags, block_shape)

    def transform(self, X):
        """Transform the rows of every bag.

        Parameters
        ----------
        X : sequence of bags, or array-like of shape \
                (n_samples, block_size, n_columns_)
            The bags, with rows of ``n_columns_`` columns.

        Returns
        -------
        X_new : list of ndarray, or ndarray of shape \
                (n_samples, block_size, n_columns_out)
            For a sequence of bags, a list of 2-D arrays: bag ``i`` has as many
            rows as ``X[i]``, each mapped by ``transformer_``. For 3-D input, a
            3-D array of the same number of samples and rows.
        """
        check_is_fitted(self)
        bags, block_shape = _bags_or_blocks(
            X, "BagRowTransformer", n_columns=self.n_columns_
        )
        return self._split(self.transformer_.transform(bags.rows), bags, block_shape)

    def _split(self, rows, bags, block_shape):
        """The transformed rows, back into bags (or blocks)."""
        if scipy.sparse.issparse(rows):
            raise TypeError(
                f"BagRowTransformer needs a dense output from its transformer; "
                f"{type(self.transformer_).__name__} returned a sparse matrix. "
                "Configure it for dense output (for instance sparse_output=False)."
            )
        rows = np.asarray(rows)
        if rows.ndim != 2 or rows.shape[0] != bags.rows.shape[0]:
            raise ValueError(
                "BagRowTransformer needs one output row per input row from its "
                f"transformer; {type(self.transformer_).__name__} mapped rows of "
                f"shape {bags.rows.shape} to an output of shape {rows.shape}."
            )
        if block_shape is not None:
            return rows.reshape(*block_shape, rows.shape[1])
        return np.split(rows, bags.offsets[1:-1])

    @available_if(lambda self: hasattr(self.transformer, "get_feature_names_out"))
    def get_feature_names_out(self, input_features=None):
        """Names of the columns of the transformed rows.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Names of the columns of the input rows; ``x0``, ``x1``, ... when
            None.

        Returns
        -------
        feature_names_out : ndarray of str objects
            What ``transformer_.get_feature_names_out`` gives for those names.
        """
        check_is_fitted(self)
        input_features = _check_feature_names_in(self, input_features)
        return self.transformer_.get_feature_names_out(input_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = []
        return tags


_STATISTICS = ("mean", "max", "min", "std", "sum", "median")


def _pool_bags(bags, statistics):
    """The per-column ``statistics`` of every bag, side by side, in float64.

    The rows are transposed once, so that each column of a bag is a contiguous
    segment; each statistic is then a segment reduction (``np.*.reduceat``), or
    for the median one sort of each column by bag and value. There is no loop
    over bags, and a bag's statistics do not depend on the other bags.
    """
    rows, offsets = bags
    n_columns = rows.shape[1]
    starts, sizes = offsets[:-1], bags.sizes
    columns = np.ascontiguousarray(rows.T)
    pooled = np.empty((len(statistics), n_columns, len(starts)))
    sums = None
    for out, statistic in zip(pooled, statistics, strict=True):
        if statistic in ("sum", "mean", "std") and sums is None:
            sums = np.add.reduceat(columns, starts, axis=1, dtype=np.float64)
        if statistic == "sum":
            out[:] = sums
        elif statistic == "mean":
            np.divide(sums, sizes, out=out)
        elif statistic == "std":
            deviations = columns - np.repeat(sums / sizes, sizes, axis=1)
            np.square(deviations, out=deviations)
            np.add.reduceat(deviations, starts, axis=1, out=out)
            np.sqrt(out / sizes, out=out)
        elif statistic == "max":
            out[:] = np.maximum.reduceat(columns, starts, axis=1)
        elif statistic == "min":
            out[:] = np.minimum.reduceat(columns, starts, axis=1)
        else:  # median
            out[:] = _segment_medians(columns, offsets)
    # (statistic, column, bag) -> (bag, statistic * column)
    return np.ascontiguousarray(pooled.reshape(-1, len(starts)).T)


def _segment_medians(columns, offsets):
    """Per-column medians of every bag, shape ``(n_columns, n_bags)``, from
    ``columns``, the rows transposed. One sort: numpy sorts complex numbers by
    real part, then imaginary part, so keys ``bag + 1j * value`` sort each column
    by bag and, within a bag, by value (exactly: both parts are float64)."""
    sizes = np.diff(offsets)
    keys = np.empty(columns.shape, dtype=np.complex128)
    keys.real = np.repeat(np.arange(len(sizes), dtype=np.float64), sizes)
    keys.imag = columns
    keys.sort(axis=1)
    values = keys.imag
    lower = values[:, offsets[:-1] + (sizes - 1) // 2]
    upper = values[:, offsets[:-1] + sizes // 2]
    return (lower + upper) / 2


class BagPooling(TransformerMixin, BaseEstimator):
    """Pool each bag's rows into per-column statistics.

    Each sample is a bag of rows of ``n_columns`` features. Each bag is mapped to
    the chosen statistics of each column over its rows, side by side: one vector
    of ``len(statistics) * n_columns`` features per bag, whatever its number of
    rows. This is the classic "pool, then any classifier" baseline of
    multiple-instance learning, for instance
    ``make_pipeline(BagPooling(), StandardScaler(), SVC())``.

    Read more in the :ref:`User Guide <mil_transformers>`.

    Parameters
    ----------
    statistics : str or tuple of str, default=("mean", "max", "min")
        The statistics, in the order of the output, each taken per column over
        a bag's rows: ``"mean"``, ``"max"``, ``"min"``, ``"std"`` (the
        population standard deviation, 0 for a bag of one row), ``"sum"`` (which
        grows with the bag's size) and ``"median"`` (the mean of the two middle
        values for an even number of rows). Each may appear once.

    Attributes
    ----------
    n_columns_ : int
        The number of columns of the rows seen during fit.

    n_features_in_ : int
        The same as ``n_columns_``: the features of a row.

    See Also
    --------
    BagRowTransformer : Transform each row of each bag, for instance to scale
        the rows before pooling.
    RowSecondMoments : Pool each bag's rows into their mean pair products.

    Notes
    -----
    ``X`` may be a sequence of bags (a list or 1-D object array of 2-D arrays of
    shape ``(n_rows_i, n_columns)``, any ``n_rows_i >= 1``) or 3-D equal-size
    blocks of shape ``(n_samples, block_size, n_columns)``. The statistics are
    reductions over segments of the rows laid end to end, without a loop over
    bags, and a bag's output does not depend on the other bags transformed with
    it. Rows must be finite.

    Examples
    --------
    >>> import numpy as np
    >>> from geneperm_sk import BagPooling
    >>> bags = [np.array([[1.0, 10.0], [3.0, 30.0]]), np.array([[2.0, 20.0]])]
    >>> pooling = BagPooling(statistics=("mean", "max")).fit(bags)
    >>> pooling.transform(bags)
    array([[ 2., 20.,  3., 30.],
           [ 2., 20.,  2., 20.]])
    >>> pooling.get_feature_names_out().tolist()
    ['mean_x0', 'mean_x1', 'max_x0', 'max_x1']
    """

    _parameter_constraints: dict = {
        "statistics": [StrOptions(set(_STATISTICS)), list, tuple],
    }

    def __init__(self, *, statistics=("mean", "max", "min")):
        self.statistics = statistics

    def _checked_statistics(self):
        statistics = self.statistics
        if isinstance(statistics, str):
            return (statistics,)
        names = ", ".join(repr(name) for name in _STATISTICS)
        for statistic in statistics:
            if not isinstance(statistic, str) or statistic not in _STATISTICS:
                raise ValueError(
                    "The 'statistics' parameter of BagPooling must hold names among "
                    f"{names}. Got {statistic!r} in {statistics!r}."
                )
        if not statistics:
            raise ValueError(
                "The 'statistics' parameter of BagPooling must name at least one "
                f"statistic among {names}. Got {statistics!r}."
            )
        repeated = sorted({name for name in statistics if statistics.count(name) > 1})
        if repeated:
            raise ValueError(
                "The 'statistics' parameter of BagPooling must name each statistic "
                f"once. Got {statistics!r}, which repeats {', '.join(repeated)}."
            )
        return tuple(statistics)

    @_unfitted_on_error("n_columns_", "n_features_in_")
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the statistics and learn the number of columns of the rows.

        Parameters
        ----------
        X : sequence of bags, or array-like of shape \
                (n_samples, block_size, n_columns)
            The bags: a list (or 1-D object array) of 2-D arrays of shape
            ``(n_rows_i, n_columns)``, or equal-size blocks.

        y : None
            Ignored.

        Returns
        -------
        self : BagPooling
            The fitted transformer.
        """
        self._checked_statistics()
        bags, _ = _bags_or_blocks(X, "BagPooling")
        check_finite_bags(bags, "BagPooling")
        self.n_columns_ = self.n_features_in_ = bags.rows.shape[1]
        return self

    def transform(self, X):
        """Pool each bag's rows into the statistics.

        Parameters
        ----------
        X : sequence of bags, or array-like of shape \
                (n_samples, block_size, n_columns_)
            The bags, with rows of ``n_columns_`` columns.

        Returns
        -------
        X_new : ndarray of shape (n_samples, len(statistics) * n_columns_)
            In float64: the first statistic of every column, then the second,
            and so on, named by :meth:`get_feature_names_out`.
        """
        check_is_fitted(self)
        statistics = self._checked_statistics()
        bags, _ = _bags_or_blocks(X, "BagPooling", n_columns=self.n_columns_)
        check_finite_bags(bags, "BagPooling")
        return _pool_bags(bags, statistics)

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Names of the columns of a row; ``x0``, ``x1``, ... when None.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``"<statistic>_<column name>"``, in the order of the output.
        """
        check_is_fitted(self)
        input_features = _check_feature_names_in(self, input_features)
        return np.asarray(
            [
                f"{statistic}_{name}"
                for statistic in self._checked_statistics()
                for name in input_features
            ],
            dtype=object,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

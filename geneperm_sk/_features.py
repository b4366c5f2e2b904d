"""RowSecondMoments: blocks of rows mapped to the mean of their rows' pair products."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from ._layout import check_fitted_layout, resolve_layout, split_layout

__all__ = ["RowSecondMoments"]

# Samples are converted to float64 and multiplied this many input entries at a time:
# the working copy stays in the processor's cache whatever the input's size and
# dtype (measured fastest of 2**14, 2**16, 2**18 and 2**20 entries).
_CHUNK_ENTRIES = 1 << 16


def _pooled_row_second_moments(X, block_size, n_columns, include_diagonal):
    """``mean_r x_ri * x_rk`` for each sample of 2-D ``X`` and each column pair
    ``i < k`` (``i <= k`` with the diagonal), in the order of ``np.triu_indices``."""
    first_offset = 0 if include_diagonal else 1
    n_pairs = n_columns * (n_columns - 1) // 2 + (n_columns if include_diagonal else 0)
    moments = np.empty((X.shape[0], n_pairs))
    samples_per_chunk = max(1, _CHUNK_ENTRIES // (block_size * n_columns))
    for start in range(0, X.shape[0], samples_per_chunk):
        stop = start + samples_per_chunk
        blocks = np.asarray(X[start:stop], dtype=np.float64).reshape(
            -1, block_size, n_columns
        )
        chunk = moments[start:stop]
        position = 0
        # Only the pairs that are kept are multiplied: for each column i, the
        # products with the columns from i + first_offset on, summed over rows.
        for column in range(n_columns - first_offset):
            partners = blocks[:, :, column + first_offset :]
            width = partners.shape[2]
            np.einsum(
                "nr,nrk->nk",
                blocks[:, :, column],
                partners,
                out=chunk[:, position : position + width],
            )
            position += width
    moments /= block_size
    return moments


class RowSecondMoments(TransformerMixin, BaseEstimator):
    """Map each block of rows to the mean over its rows of the rows' pair products.

    Each sample is a block of ``block_size`` rows of ``n_columns`` features. For
    every pair of columns ``i < k`` the transformer outputs the mean over the
    block's rows of ``x_ri * x_rk``: the strict upper triangle of the pooled
    second-moment matrix ``mean_r x_r x_r'``, ``n_columns * (n_columns - 1) / 2``
    features. It carries two parts of the inductive bias of
    :class:`AbsMeanClassifier`: the features are quadratic in each row, and they
    do not change when the rows of a block are permuted. With
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
        The number of features of 2-D ``X`` (``block_size_ * n_columns_``).

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    block_size_ : int
        The number of rows per sample.

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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the layout of the blocks from ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, block_size * n_columns) or \
                (n_samples, block_size, n_columns)
            The blocks.

        y : None
            Ignored.

        Returns
        -------
        self : RowSecondMoments
            The fitted transformer.
        """
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
        self.block_size_, self.n_columns_ = block_size, n_columns
        return self

    def transform(self, X):
        """Map each block to the mean over its rows of the rows' pair products.

        Parameters
        ----------
        X : array-like of shape (n_samples, block_size_ * n_columns_) or \
                (n_samples, block_size_, n_columns_)
            The blocks.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out)
            The pooled row second moments in float64, named by
            :meth:`get_feature_names_out`; ``n_features_out`` is
            ``n_columns_ * (n_columns_ - 1) / 2``, or
            ``n_columns_ * (n_columns_ + 1) / 2`` with the diagonal.
        """
        check_is_fitted(self)
        X, layout = split_layout(X, "RowSecondMoments")
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

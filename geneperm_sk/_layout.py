"""Reading samples as blocks of rows: the input conventions every estimator shares.

A sample is a block of ``block_size`` rows of ``n_columns`` features, given either
as 3-D ``X`` of shape ``(n_samples, block_size, n_columns)`` or as 2-D ``X`` of
shape ``(n_samples, block_size * n_columns)`` with the rows laid end to end, in
which case exactly one of ``block_size`` and ``n_columns`` says how to split it.
"""

import numpy as np
import scipy.sparse

__all__ = ["check_fitted_layout", "resolve_layout", "split_layout"]


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

"""Misuses a careless or hostile user tries: each gives what was meant or a clear
error, never a silently different model."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from geneperm_sk import (
    AbsMeanClassifier,
    AttentionMILClassifier,
    DeepSetsClassifier,
    make_geneperm,
)

BLOCK_CLASSIFIERS = [AbsMeanClassifier, DeepSetsClassifier, AttentionMILClassifier]


def _data(n_samples=200, n_columns=6, block_size=3, random_state=0):
    return make_geneperm(
        n_samples, n_columns=n_columns, block_size=block_size, random_state=random_state
    )


# -- numpy booleans mean what Python's mean --------------------------------------


@pytest.mark.parametrize("flag", [False, np.False_, True, np.True_])
def test_early_stopping_takes_numpy_booleans_at_their_value(flag):
    X, y = _data()
    model = AbsMeanClassifier(
        n_columns=6, max_epochs=2, early_stopping=flag, device="cpu", random_state=0
    ).fit(X, y)
    history_keys = model.net_.history[-1].keys()
    assert ("valid_loss" in history_keys) == bool(flag)


def test_a_grid_written_as_a_numpy_array_fits_both_settings():
    X, y = _data()
    search = GridSearchCV(
        AbsMeanClassifier(n_columns=6, max_epochs=1, device="cpu", random_state=0),
        {"early_stopping": np.array([True, False])},
        cv=2,
        refit=False,
    ).fit(X, y)
    assert [type(value) for value in search.cv_results_["param_early_stopping"]] == [
        np.bool_,
        np.bool_,
    ]
    best = AbsMeanClassifier(
        n_columns=6,
        max_epochs=1,
        device="cpu",
        random_state=0,
        early_stopping=search.cv_results_["param_early_stopping"][1],
    ).fit(X, y)
    assert "valid_loss" not in best.net_.history[-1].keys()

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


# -- a bool is not a size --------------------------------------------------------


@pytest.mark.parametrize("cls", BLOCK_CLASSIFIERS)
@pytest.mark.parametrize("name", ["batch_size", "max_epochs", "n_iter_no_change"])
def test_a_count_given_as_a_bool_is_refused(cls, name):
    X, y = _data()
    with pytest.raises(ValueError, match=f"'{name}' parameter of {cls.__name__} .*"):
        cls(n_columns=6, device="cpu", **{name: True}).fit(X, y)


@pytest.mark.parametrize("cls", [DeepSetsClassifier, AttentionMILClassifier])
@pytest.mark.parametrize("name", ["row_hidden_sizes", "head_hidden_sizes"])
def test_layer_sizes_given_as_a_bool_are_refused(cls, name):
    X, y = _data()
    with pytest.raises(ValueError, match=f"'{name}' parameter of {cls.__name__}"):
        cls(n_columns=6, device="cpu", **{name: True}).fit(X, y)


def test_attention_size_given_as_a_bool_is_refused():
    X, y = _data()
    with pytest.raises(ValueError, match="'attention_size' parameter"):
        AttentionMILClassifier(n_columns=6, device="cpu", attention_size=True).fit(X, y)


@pytest.mark.parametrize("sizes", [True, 8])
def test_modules_refuse_a_bare_int_or_bool_as_sizes(sizes):
    from geneperm_sk import DeepSetsModule

    with pytest.raises(ValueError, match="row_hidden_sizes must be a sequence"):
        DeepSetsModule(4, row_hidden_sizes=sizes)

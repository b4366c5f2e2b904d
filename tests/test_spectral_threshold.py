"""The spectral start's threshold on training scores that separate the classes."""

import numpy as np
import torch

from geneperm_sk import make_geneperm
from geneperm_sk._modules import AbsMeanModule, set_parameters
from geneperm_sk._spectral import spectral_start

BLOCK_SIZE, N_COLUMNS = 8, 20


def changed_rows(X):
    return (X.sum(axis=2) != 0).sum(axis=1)


def start_logits(X_train, y_train, X):
    parameters, _ = spectral_start(
        torch.from_numpy(X_train), torch.as_tensor(y_train, dtype=torch.float32)
    )
    module = AbsMeanModule(N_COLUMNS)
    set_parameters(module, **parameters)
    with torch.no_grad():
        return module(torch.from_numpy(X)).numpy()


def test_blocks_with_one_changed_row_are_positive_without_any_in_training():
    X, y, table = make_geneperm(
        600,
        n_columns=N_COLUMNS,
        block_size=BLOCK_SIZE,
        return_table=True,
        random_state=0,
    )
    X = X.reshape(-1, BLOCK_SIZE, N_COLUMNS)
    k = changed_rows(X)
    # Positive blocks with at least 2 changed rows only: the classes separate,
    # and the smallest positive score is twice what one changed row gives.
    keep = (y == 0) | (k >= 2)
    X_test, y_test = make_geneperm(
        4000, block_size=BLOCK_SIZE, table=table, random_state=1
    )
    X_test = X_test.reshape(-1, BLOCK_SIZE, N_COLUMNS)
    k_test = changed_rows(X_test)
    logits = start_logits(X[keep], y[keep], X_test)
    one_changed = (y_test == 1) & (k_test == 1)
    assert one_changed.sum() > 20
    assert (logits[one_changed] > 0).all()
    assert (logits[y_test == 0] < 0).all()
    # The start stays confident on the negatives: probability of class 1 under 1%.
    assert (logits[y_test == 0] < np.log(0.01 / 0.99)).all()


def test_overlapping_scores_keep_the_logistic_fit():
    # Block size 1: intact positive rows score like negative ones, so the classes
    # overlap and the output affine is the logistic fit's (threshold between 0
    # and the changed rows' score; the predictions are the Bayes rule).
    X, y = make_geneperm(2000, n_columns=N_COLUMNS, block_size=1, random_state=0)
    X = X.reshape(-1, 1, N_COLUMNS)
    logits = start_logits(X, y, X)
    changed = changed_rows(X) > 0
    assert (logits[changed] > 0).all()
    assert (logits[~changed] < 0).all()

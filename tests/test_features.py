import math
import pickle
import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

import geneperm_sk._features as features_module
from geneperm_sk import (
    BagPooling,
    BagRowTransformer,
    RowSecondMoments,
    bayes_accuracy,
    make_geneperm,
)


def binomial_tolerance(probability, n, n_sigmas=5):
    """Half-width of a band that holds a binomial frequency with overwhelming odds."""
    return n_sigmas * math.sqrt(probability * (1 - probability) / n)


def moments_by_loop(blocks, include_diagonal=False):
    """The definition, one sample, pair and row at a time."""
    n_samples, block_size, n_columns = blocks.shape
    offset = 0 if include_diagonal else 1
    pairs = [(i, k) for i in range(n_columns) for k in range(i + offset, n_columns)]
    expected = np.zeros((n_samples, len(pairs)))
    for sample in range(n_samples):
        for position, (i, k) in enumerate(pairs):
            total = 0.0
            for row in range(block_size):
                total += float(blocks[sample, row, i]) * float(blocks[sample, row, k])
            expected[sample, position] = total / block_size
    return expected


# Both instances take any 2-D data: block_size=1 reads each sample as one row,
# n_columns=1 as a block of one-feature rows. Pairs of distinct columns need two
# columns, so the n_columns=1 reading needs the diagonal (without it, fit raises:
# see test_one_column_needs_the_diagonal). No check is expected to fail.
@parametrize_with_checks(
    [
        RowSecondMoments(block_size=1),
        RowSecondMoments(n_columns=1, include_diagonal=True),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("include_diagonal", [False, True])
@pytest.mark.parametrize(
    "n_samples, block_size, n_columns", [(7, 1, 2), (9, 3, 5), (4, 6, 8), (1, 2, 3)]
)
def test_values_match_the_definition(
    n_samples, block_size, n_columns, include_diagonal
):
    rng = np.random.default_rng(0)
    blocks = rng.normal(size=(n_samples, block_size, n_columns))
    transformer = RowSecondMoments(
        n_columns=n_columns, include_diagonal=include_diagonal
    )
    moments = transformer.fit_transform(blocks.reshape(n_samples, -1))
    assert moments.dtype == np.float64
    np.testing.assert_allclose(
        moments, moments_by_loop(blocks, include_diagonal), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("chunk_entries", [1, 7, 40, 10_000])
def test_values_do_not_depend_on_the_chunk_size(monkeypatch, chunk_entries):
    # Blocks of 12 entries: one sample per chunk, a few, and all of them at once.
    rng = np.random.default_rng(1)
    blocks = rng.normal(size=(25, 3, 4))
    expected = moments_by_loop(blocks)
    monkeypatch.setattr(features_module, "_CHUNK_ENTRIES", chunk_entries)
    moments = RowSecondMoments(block_size=3).fit_transform(blocks.reshape(25, -1))
    np.testing.assert_allclose(moments, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.int64, np.float64])
def test_any_numeric_input_gives_float64_moments(dtype):
    rng = np.random.default_rng(2)
    blocks = rng.integers(-3, 4, size=(30, 4, 6)).astype(dtype)
    moments = RowSecondMoments().fit_transform(blocks)
    assert moments.dtype == np.float64
    # Products of small integers are exact in float64 whatever the input dtype.
    np.testing.assert_array_equal(moments, moments_by_loop(blocks))


def _views(X):
    read_only = X.copy()
    read_only.flags.writeable = False
    return {
        "samples reversed": (X[::-1], slice(None, None, -1)),
        "every other sample": (X[::2], slice(None, None, 2)),
        "Fortran order": (np.asfortranarray(X), slice(None)),
        "read-only": (read_only, slice(None)),
    }


@pytest.mark.parametrize("name", ["samples reversed", "every other sample"])
@pytest.mark.parametrize("layout", ["2-D", "3-D"])
def test_any_numpy_view_is_accepted(name, layout):
    rng = np.random.default_rng(3)
    blocks = rng.normal(size=(20, 3, 4))
    X = blocks if layout == "3-D" else blocks.reshape(20, -1)
    view, samples = _views(X)[name]
    expected = moments_by_loop(blocks)[samples]
    transformer = RowSecondMoments(block_size=3).fit(X)
    np.testing.assert_allclose(transformer.transform(view), expected, rtol=1e-12)
    np.testing.assert_allclose(
        RowSecondMoments(block_size=3).fit_transform(view), expected, rtol=1e-12
    )


@pytest.mark.parametrize("name", ["Fortran order", "read-only"])
def test_any_memory_layout_is_accepted(name):
    rng = np.random.default_rng(4)
    blocks = rng.normal(size=(20, 3, 4))
    view, _ = _views(blocks.reshape(20, -1))[name]
    np.testing.assert_allclose(
        RowSecondMoments(n_columns=4).fit_transform(view),
        moments_by_loop(blocks),
        rtol=1e-12,
    )


def test_output_does_not_depend_on_the_order_of_rows():
    rng = np.random.default_rng(5)
    blocks = rng.normal(size=(10, 5, 4))
    shuffled = np.stack([block[rng.permutation(5)] for block in blocks])
    assert not np.array_equal(shuffled, blocks)
    transformer = RowSecondMoments().fit(blocks)
    np.testing.assert_allclose(
        transformer.transform(shuffled), transformer.transform(blocks), rtol=1e-12
    )


def test_three_d_input_matches_two_d_input():
    X, _ = make_geneperm(50, n_columns=6, block_size=3, random_state=0)
    blocks = X.reshape(50, 3, 6)
    from_blocks = RowSecondMoments().fit(blocks)
    assert (from_blocks.block_size_, from_blocks.n_columns_) == (3, 6)
    assert from_blocks.n_features_in_ == 18
    expected = RowSecondMoments(block_size=3).fit_transform(X)
    np.testing.assert_array_equal(from_blocks.transform(blocks), expected)
    # A transformer fitted on 3-D input takes the flat layout too, and back.
    np.testing.assert_array_equal(from_blocks.transform(X), expected)
    from_flat = RowSecondMoments(n_columns=6).fit(X)
    np.testing.assert_array_equal(from_flat.transform(blocks), expected)
    # A given value that agrees with the 3-D shape is fine.
    agreeing = RowSecondMoments(block_size=3, n_columns=6).fit(blocks)
    np.testing.assert_array_equal(agreeing.transform(blocks), expected)


@pytest.mark.parametrize(
    "params, n_features, expected",
    [({"block_size": 4}, 20, (4, 5)), ({"n_columns": 4}, 20, (5, 4))],
)
def test_the_other_dimension_is_inferred_from_the_width(params, n_features, expected):
    X = np.ones((3, n_features))
    transformer = RowSecondMoments(**params).fit(X)
    assert (transformer.block_size_, transformer.n_columns_) == expected
    assert transformer.n_features_in_ == n_features


def test_the_moments_give_the_gene_perm_block_score():
    # sum(x)**2 = d + 2 * sum_{i<k} x_i x_k on +-1 rows, so the mean over rows of
    # the squared row sums is linear in the features, and 0 for negative blocks.
    n_columns = 8
    X, y = make_geneperm(
        400, n_columns=n_columns, block_size=3, flatten=False, random_state=1
    )
    moments = RowSecondMoments().fit_transform(X)
    score = (X.astype(np.float64).sum(axis=2) ** 2).mean(axis=1)
    np.testing.assert_allclose(n_columns + 2 * moments.sum(axis=1), score, atol=1e-12)
    assert np.all(score[y == 0] == 0)
    # And the diagonal is constant 1 on +-1 data.
    with_diagonal = RowSecondMoments(include_diagonal=True).fit_transform(X)
    diagonal = [i == k for i in range(n_columns) for k in range(i, n_columns)]
    np.testing.assert_array_equal(with_diagonal[:, diagonal], 1)
    np.testing.assert_array_equal(with_diagonal[:, np.logical_not(diagonal)], moments)


def test_logistic_regression_on_the_moments_nears_the_bayes_accuracy():
    n_train, n_test, block_size, n_columns = 4000, 4000, 4, 20
    X, y, table = make_geneperm(
        n_train,
        n_columns=n_columns,
        block_size=block_size,
        return_table=True,
        random_state=0,
    )
    X_test, y_test = make_geneperm(
        n_test, block_size=block_size, table=table, random_state=1
    )
    model = make_pipeline(
        RowSecondMoments(n_columns=n_columns),
        StandardScaler(),
        LogisticRegression(C=100, max_iter=1000),
    ).fit(X, y)
    accuracy = model.score(X_test, y_test)
    # Measured 0.95 with 2,000 training samples and 0.968 with 8,000; Bayes is
    # 0.969. The band is the test set's sampling error.
    bayes = bayes_accuracy(block_size)
    assert accuracy >= 0.95 - binomial_tolerance(0.95, n_test)
    assert accuracy <= bayes + binomial_tolerance(bayes, n_test)
    # The same logistic regression on the flat blocks sits at chance.
    flat_accuracy = LogisticRegression(max_iter=1000).fit(X, y).score(X_test, y_test)
    assert abs(flat_accuracy - 0.5) <= binomial_tolerance(0.5, n_test)


def test_one_column_needs_the_diagonal():
    X = np.arange(12.0).reshape(3, 4)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "RowSecondMoments with include_diagonal=False pairs distinct columns of "
            "each row, so it needs n_columns >= 2; got rows of 1 feature(s) "
            "(n_columns=1). Pass include_diagonal=True"
        ),
    ):
        RowSecondMoments(n_columns=1).fit(X)
    moments = RowSecondMoments(n_columns=1, include_diagonal=True).fit_transform(X)
    np.testing.assert_allclose(moments[:, 0], (X**2).mean(axis=1))


@pytest.mark.parametrize(
    "params, X_shape, match",
    [
        (
            {},
            (5, 12),
            "RowSecondMoments needs exactly one of block_size and n_columns .*"
            "got block_size=None and n_columns=None. Pass one of them, or 3-D X",
        ),
        (
            {"block_size": 2, "n_columns": 6},
            (5, 12),
            "needs exactly one of block_size and n_columns .* got block_size=2 "
            "and n_columns=6",
        ),
        (
            {"n_columns": 5},
            (5, 12),
            "RowSecondMoments got X with 12 features, which is not a multiple of "
            "n_columns=5",
        ),
        (
            {"block_size": 5},
            (5, 12),
            "got X with 12 features, which is not a multiple of block_size=5",
        ),
        (
            {"block_size": 2},
            (5, 3, 4),
            re.escape(
                "RowSecondMoments got 3-D X of shape (n_samples, 3, 4), which sets "
                "block_size=3, but block_size=2 was given."
            ),
        ),
        (
            {"n_columns": 3},
            (5, 3, 4),
            "which sets n_columns=4, but n_columns=3 was given",
        ),
        (
            {"block_size": 1},
            (5, 3, 4, 2),
            re.escape(
                "RowSecondMoments takes X of shape (n_samples, block_size * "
                "n_columns) or (n_samples, block_size, n_columns); got a 4-D array "
                "of shape (5, 3, 4, 2)."
            ),
        ),
        ({"block_size": 1}, (5,), "Expected 2D array, got 1D array instead"),
    ],
)
def test_inconsistent_layout_is_an_error(params, X_shape, match):
    X = np.ones(X_shape)
    with pytest.raises(ValueError, match=match):
        RowSecondMoments(**params).fit(X)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"block_size": 0}, "'block_size' parameter of RowSecondMoments .* Got 0"),
        ({"block_size": 1.5}, "'block_size' parameter .* Got 1.5"),
        ({"n_columns": -2}, "'n_columns' parameter of RowSecondMoments .* Got -2"),
        ({"n_columns": "4"}, "'n_columns' parameter .* Got '4'"),
        ({"include_diagonal": "yes"}, "'include_diagonal' parameter .* Got 'yes'"),
        ({"include_diagonal": None}, "'include_diagonal' parameter .* Got None"),
    ],
)
def test_invalid_parameters_raise_naming_the_parameter(params, match):
    with pytest.raises(ValueError, match=match):
        RowSecondMoments(**params).fit(np.ones((3, 4)))


def test_transform_rejects_blocks_of_another_shape():
    transformer = RowSecondMoments().fit(np.ones((5, 3, 4)))
    with pytest.raises(
        ValueError,
        match=re.escape(
            "RowSecondMoments was fitted on blocks of 3 rows of 4 columns, but got "
            "3-D X of shape (n_samples, 4, 3)."
        ),
    ):
        transformer.transform(np.ones((5, 4, 3)))
    with pytest.raises(ValueError, match="X has 10 features, but RowSecondMoments"):
        transformer.transform(np.ones((5, 10)))


@pytest.mark.parametrize(
    "include_diagonal, expected",
    [
        (
            False,
            ["0_1", "0_2", "0_3", "1_2", "1_3", "2_3"],
        ),
        (
            True,
            ["0_0", "0_1", "0_2", "0_3", "1_1", "1_2", "1_3", "2_2", "2_3", "3_3"],
        ),
    ],
)
def test_feature_names_follow_the_output(include_diagonal, expected):
    rng = np.random.default_rng(6)
    blocks = rng.normal(size=(8, 2, 4))
    transformer = RowSecondMoments(include_diagonal=include_diagonal)
    moments = transformer.fit_transform(blocks)
    names = transformer.get_feature_names_out()
    assert names.dtype == object
    assert names.tolist() == [f"rowsecondmoments_{pair}" for pair in expected]
    assert len(names) == moments.shape[1]
    # The feature named i_k is the mean over rows of columns i and k multiplied.
    for name, column in zip(names, moments.T, strict=True):
        i, k = (int(index) for index in name.split("_")[1:])
        np.testing.assert_allclose(
            column, (blocks[:, :, i] * blocks[:, :, k]).mean(axis=1), rtol=1e-12
        )


def test_feature_names_with_a_dataframe_and_pandas_output():
    columns = [f"r{row}c{column}" for row in range(2) for column in range(3)]
    X = pd.DataFrame(np.arange(24.0).reshape(4, 6), columns=columns)
    transformer = RowSecondMoments(block_size=2).set_output(transform="pandas")
    output = transformer.fit_transform(X)
    assert transformer.feature_names_in_.tolist() == columns
    assert list(output.columns) == [
        "rowsecondmoments_0_1",
        "rowsecondmoments_0_2",
        "rowsecondmoments_1_2",
    ]
    np.testing.assert_array_equal(
        transformer.get_feature_names_out(columns), output.columns
    )
    with pytest.raises(ValueError, match="input_features is not equal to"):
        transformer.get_feature_names_out([f"x{i}" for i in range(6)])
    with pytest.raises(ValueError, match="input_features is not equal to"):
        transformer.get_feature_names_out(columns[:3])
    # Without names seen in fit, only the number of input features is checked.
    unnamed = RowSecondMoments(block_size=2).fit(X.to_numpy())
    assert len(unnamed.get_feature_names_out([f"x{i}" for i in range(6)])) == 3
    with pytest.raises(ValueError, match="input_features should have length equal"):
        unnamed.get_feature_names_out(columns[:3])


def test_pickle_and_clone():
    X, _ = make_geneperm(30, n_columns=6, block_size=3, random_state=2)
    transformer = RowSecondMoments(n_columns=6, include_diagonal=True).fit(X)
    restored = pickle.loads(pickle.dumps(transformer))
    assert (restored.block_size_, restored.n_columns_) == (3, 6)
    np.testing.assert_array_equal(restored.transform(X), transformer.transform(X))
    unfitted = clone(transformer)
    assert unfitted.get_params() == transformer.get_params()
    assert not hasattr(unfitted, "block_size_")


# -- bags of any size -----------------------------------------------------------


def random_bags(sizes, n_columns, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(size, n_columns)).astype(dtype) for size in sizes]


@pytest.mark.parametrize("include_diagonal", [False, True])
@pytest.mark.parametrize("chunk_entries", [1, 13, 1 << 16])
def test_bags_give_the_mean_over_their_own_rows(
    monkeypatch, include_diagonal, chunk_entries
):
    bags = random_bags([1, 4, 30, 2, 7, 1], n_columns=5)
    monkeypatch.setattr(features_module, "_CHUNK_ENTRIES", chunk_entries)
    transformer = RowSecondMoments(include_diagonal=include_diagonal).fit(bags)
    assert (transformer.block_size_, transformer.n_columns_) == (None, 5)
    assert transformer.n_features_in_ == 5
    moments = transformer.transform(bags)
    expected = np.vstack([moments_by_loop(bag[None], include_diagonal) for bag in bags])
    np.testing.assert_allclose(moments, expected, rtol=1e-12, atol=1e-14)
    assert len(transformer.get_feature_names_out()) == moments.shape[1]


def test_a_bag_gives_the_same_bits_alone_in_a_slice_and_permuted():
    bags = random_bags([3, 50, 1, 8, 8, 20], n_columns=6, seed=1)
    transformer = RowSecondMoments().fit(bags)
    moments = transformer.transform(bags)
    for index, bag in enumerate(bags):
        np.testing.assert_array_equal(transformer.transform([bag])[0], moments[index])
    np.testing.assert_array_equal(transformer.transform(bags[2:5]), moments[2:5])
    order = np.random.default_rng(2).permutation(len(bags))
    np.testing.assert_array_equal(
        transformer.transform([bags[i] for i in order]), moments[order]
    )
    as_object_array = np.empty(len(bags), dtype=object)
    as_object_array[:] = bags
    np.testing.assert_array_equal(transformer.transform(as_object_array), moments)


def test_bags_of_one_size_match_the_blocks():
    X, _ = make_geneperm(40, n_columns=6, block_size=3, flatten=False, random_state=3)
    from_blocks = RowSecondMoments().fit(X)
    from_bags = RowSecondMoments().fit(list(X))
    # Blocks and bags are summed in different orders: equal to rounding.
    np.testing.assert_allclose(
        from_bags.transform(list(X)), from_blocks.transform(X), rtol=1e-12
    )
    # The blocks' own path is the one it was: fitted on bags or blocks, 3-D
    # input gives the same bits.
    np.testing.assert_array_equal(from_bags.transform(X), from_blocks.transform(X))
    np.testing.assert_array_equal(
        from_blocks.transform(X), moments_by_loop(X.astype(np.float64))
    )


def test_bags_of_integers_and_mixed_dtypes():
    rng = np.random.default_rng(4)
    bags = [rng.integers(-3, 4, size=(size, 4)) for size in (2, 5, 1)]
    expected = np.vstack([moments_by_loop(bag[None]) for bag in bags])
    for dtype in (np.int8, np.int64, np.float32):
        converted = [bag.astype(dtype) for bag in bags]
        np.testing.assert_array_equal(
            RowSecondMoments().fit_transform(converted), expected
        )
    mixed = [bags[0].astype(np.int8), bags[1].astype(np.float64), bags[2]]
    np.testing.assert_array_equal(RowSecondMoments().fit_transform(mixed), expected)


def test_bags_of_gene_perm_rows_give_the_block_score():
    # Gene-Perm blocks cut into bags of 1 to 6 rows: the pooled moments still
    # carry the signal (the mean squared row sum is 0 exactly for bags of
    # balanced rows).
    X, y = make_geneperm(600, n_columns=8, block_size=6, flatten=False, random_state=5)
    sizes = np.random.default_rng(6).integers(1, 7, size=len(X))
    bags = [block[:size] for block, size in zip(X, sizes, strict=True)]
    moments = RowSecondMoments().fit_transform(bags)
    score = 8 + 2 * moments.sum(axis=1)
    expected = [(bag.sum(axis=1) ** 2).mean() for bag in bags]
    np.testing.assert_allclose(score, expected, atol=1e-12)


@pytest.mark.parametrize(
    "params, X, match",
    [
        (
            {"n_columns": 3},
            [np.ones((2, 4))],
            re.escape("got bags of 4 columns, but n_columns=3 was given"),
        ),
        (
            {"block_size": 2},
            [np.ones((2, 4)), np.ones((3, 4))],
            re.escape("block_size=2, but bag X[1] has 3 rows"),
        ),
        ({}, [np.ones((2, 4)), np.ones((0, 4))], re.escape("X[1] has shape (0, 4)")),
        ({}, [np.ones((2, 4)), np.ones((2, 3))], re.escape("X[1] has shape (2, 3)")),
        ({}, [np.ones((2, 4)), np.ones(4)], re.escape("X[1] is a ndarray of shape")),
        ({}, [np.ones((2, 1))], "needs n_columns >= 2"),
    ],
)
def test_bad_bags_are_an_error(params, X, match):
    with pytest.raises(ValueError, match=match):
        RowSecondMoments(**params).fit(X)


def test_transform_of_bags_checks_the_fitted_columns():
    fitted_on_bags = RowSecondMoments().fit(random_bags([2, 3], n_columns=4))
    with pytest.raises(ValueError, match="the fitted number of columns is 4"):
        fitted_on_bags.transform(random_bags([2, 3], n_columns=5))
    with pytest.raises(ValueError, match="fitted on bags, so it takes bags or 3-D"):
        fitted_on_bags.transform(np.ones((3, 8)))
    with pytest.raises(ValueError, match="fitted on bags of 4 columns, but got 3-D"):
        fitted_on_bags.transform(np.ones((3, 2, 5)))
    fitted_on_blocks = RowSecondMoments().fit(np.ones((3, 2, 4)))
    with pytest.raises(ValueError, match="the fitted number of columns is 4"):
        fitted_on_blocks.transform(random_bags([2, 3], n_columns=5))
    # Bags of any size are fine after a fit on blocks.
    assert fitted_on_blocks.transform(random_bags([1, 7], n_columns=4)).shape == (2, 6)


@pytest.mark.parametrize(
    "params, bad_X",
    [
        ({"n_columns": 1}, np.ones((3, 4))),  # fails after the data are checked
        ({"block_size": 5}, np.ones((3, 4))),  # fails working out the layout
        ({"block_size": 0}, np.ones((3, 4))),  # fails validating the parameters
        ({}, [np.ones((2, 4)), np.ones((0, 4))]),  # an empty bag
        ({}, np.ones((3, 2, 1))),  # one column without the diagonal
    ],
)
def test_a_failed_fit_leaves_the_transformer_unfitted(params, bad_X):
    transformer = RowSecondMoments(n_columns=4).fit(np.ones((3, 8)))
    check_is_fitted(transformer)
    transformer.set_params(**{"n_columns": None, **params})
    with pytest.raises(ValueError):
        transformer.fit(bad_X)
    with pytest.raises(NotFittedError):
        check_is_fitted(transformer)
    assert not [name for name in vars(transformer) if name.endswith("_")]
    with pytest.raises(NotFittedError):
        transformer.transform(np.ones((3, 8)))


# -- BagPooling and BagRowTransformer ---------------------------------------------

# scikit-learn's estimator checks feed 2-D arrays of samples by features, which do
# not say where one bag's rows end, so check_estimator skips estimators that take
# no 2-D input (as these declare in their tags). The checks that need no data run
# here; the data checks are written below for bags (fit returns self, idempotent
# fit, input left unchanged, transform before fit, pickle, clone, pipelines).
API_CHECKS = [
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_repr",
    "check_estimator_cloneable",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_mixin_order",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_param_validation",
    "check_transformers_unfitted",
    "check_get_feature_names_out_error",
]


def bag_transformers():
    return [BagPooling(), BagRowTransformer(StandardScaler())]


@pytest.mark.parametrize("check_name", API_CHECKS)
@pytest.mark.parametrize(
    "estimator", bag_transformers(), ids=lambda e: type(e).__name__
)
def test_bag_transformers_pass_the_api_checks(estimator, check_name):
    check = getattr(estimator_checks, check_name, None)
    if check is None:
        pytest.skip(f"{check_name} is not in this version of scikit-learn")
    check(type(estimator).__name__, estimator)


def key_instance_bags(n_bags, seed, n_columns=4):
    """Bags of 1 to 11 rows on raw scales (like Musk's features); a positive bag
    holds one key row, shifted by 6 in column 0."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 12, size=n_bags)
    y = np.arange(n_bags) % 2
    scales = np.array([1, 1, 100, 0.01, 1, 1][:n_columns])
    bags = []
    for size, label in zip(sizes, y, strict=True):
        bag = rng.normal(size=(size, n_columns)) * scales + 500 * (scales == 100)
        if label:
            bag[rng.integers(size), 0] += 6
        bags.append(bag)
    return bags, y


def numpy_statistics(bag, statistics):
    functions = {
        "mean": np.mean,
        "max": np.max,
        "min": np.min,
        "std": np.std,
        "sum": np.sum,
        "median": np.median,
    }
    return np.concatenate(
        [functions[name](bag.astype(np.float64), axis=0) for name in statistics]
    )


ALL_STATISTICS = ("mean", "max", "min", "std", "sum", "median")


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int8, np.int64])
@pytest.mark.parametrize(
    "statistics", [ALL_STATISTICS, ("median", "mean"), "std", ["max"]]
)
def test_bag_pooling_matches_numpy_per_bag(dtype, statistics):
    rng = np.random.default_rng(7)
    sizes = [1, 2, 5, 8, 3, 1, 12]
    bags = [(rng.normal(size=(size, 3)) * 5).astype(dtype) for size in sizes]
    names = (statistics,) if isinstance(statistics, str) else statistics
    pooled = BagPooling(statistics=statistics).fit_transform(bags)
    assert pooled.dtype == np.float64
    assert pooled.shape == (len(bags), 3 * len(names))
    expected = np.vstack([numpy_statistics(bag, names) for bag in bags])
    np.testing.assert_allclose(pooled, expected, rtol=1e-12, atol=1e-12)


def test_bag_pooling_of_blocks_matches_the_bags():
    X, _ = make_geneperm(30, n_columns=6, block_size=4, flatten=False, random_state=8)
    pooling = BagPooling(statistics=ALL_STATISTICS).fit(X)
    np.testing.assert_array_equal(pooling.transform(X), pooling.transform(list(X)))
    expected = np.vstack([numpy_statistics(block, ALL_STATISTICS) for block in X])
    np.testing.assert_allclose(pooling.transform(X), expected, rtol=1e-12, atol=1e-12)


def test_bag_pooling_gives_a_bag_the_same_bits_alone_and_in_any_company():
    bags, _ = key_instance_bags(30, seed=9)
    pooling = BagPooling(statistics=ALL_STATISTICS).fit(bags)
    pooled = pooling.transform(bags)
    for index, bag in enumerate(bags):
        np.testing.assert_array_equal(pooling.transform([bag])[0], pooled[index])
    np.testing.assert_array_equal(pooling.transform(bags[5:17]), pooled[5:17])
    order = np.random.default_rng(10).permutation(len(bags))
    np.testing.assert_array_equal(
        pooling.transform([bags[i] for i in order]), pooled[order]
    )


def test_bag_pooling_feature_names_and_pandas_output():
    bags = random_bags([2, 3], n_columns=2)
    pooling = BagPooling(statistics=("max", "std")).fit(bags)
    assert pooling.get_feature_names_out().tolist() == [
        "max_x0",
        "max_x1",
        "std_x0",
        "std_x1",
    ]
    assert pooling.get_feature_names_out(["a", "b"]).tolist() == [
        "max_a",
        "max_b",
        "std_a",
        "std_b",
    ]
    with pytest.raises(ValueError, match="input_features should have length equal"):
        pooling.get_feature_names_out(["a"])
    output = pooling.set_output(transform="pandas").transform(bags)
    assert list(output.columns) == ["max_x0", "max_x1", "std_x0", "std_x1"]
    np.testing.assert_array_equal(
        output.to_numpy(), BagPooling(statistics=("max", "std")).fit_transform(bags)
    )


@pytest.mark.parametrize(
    "statistics, match",
    [
        ("mode", "'statistics' parameter of BagPooling must be a str among"),
        (
            ("mean", "mode"),
            "must hold names among .* Got 'mode' in \\('mean', 'mode'\\)",
        ),
        (["max", 3], "must hold names among .* Got 3 in"),
        ((), "must name at least one statistic"),
        (("max", "mean", "max"), "must name each statistic once.* repeats max"),
        (None, "'statistics' parameter of BagPooling"),
    ],
)
def test_bag_pooling_rejects_bad_statistics(statistics, match):
    with pytest.raises(ValueError, match=match):
        BagPooling(statistics=statistics).fit(random_bags([2], n_columns=2))


@pytest.mark.parametrize(
    "estimator", bag_transformers(), ids=lambda e: type(e).__name__
)
@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.ones((4, 6)), ValueError, "2-D array does not say where one bag's rows"),
        (np.ones(4), ValueError, "got an array of shape \\(4,\\)"),
        (np.ones((2, 3, 4, 1)), ValueError, "got an array of shape \\(2, 3, 4, 1\\)"),
        (np.ones((0, 3, 4)), ValueError, "at least one sample"),
        (np.full((2, 3, 4), "a"), ValueError, "numeric X; got dtype <U1"),
        ([], ValueError, "X with no bags"),
        (
            [np.ones((2, 4)), np.ones((0, 4))],
            ValueError,
            "X\\[1\\] has shape \\(0, 4\\)",
        ),
        (
            [np.ones((2, 4)), np.ones((2, 3))],
            ValueError,
            "X\\[1\\] has shape \\(2, 3\\)",
        ),
        ([np.ones((2, 4)), np.ones(4)], ValueError, "X\\[1\\] is a ndarray of shape"),
        (
            [np.ones((2, 4)), scipy.sparse.csr_matrix(np.ones((2, 4)))],
            TypeError,
            "X\\[1\\] is a sparse matrix",
        ),
        (scipy.sparse.csr_matrix(np.ones((2, 4))), TypeError, "got a sparse matrix"),
    ],
)
def test_bag_transformers_reject_what_is_not_bags(estimator, X, error, match):
    with pytest.raises(error, match=match):
        estimator.fit(X)


@pytest.mark.parametrize(
    "estimator", bag_transformers(), ids=lambda e: type(e).__name__
)
def test_bag_transformers_check_the_fitted_columns(estimator):
    estimator.fit(random_bags([2, 3], n_columns=4))
    assert estimator.n_columns_ == estimator.n_features_in_ == 4
    with pytest.raises(ValueError, match="the fitted number of columns is 4"):
        estimator.transform(random_bags([1, 2], n_columns=3))
    with pytest.raises(ValueError, match="fitted on rows of 4 columns, but got 3-D X"):
        estimator.transform(np.ones((2, 3, 5)))


def test_bag_pooling_names_the_bag_holding_nan():
    bags = random_bags([2, 3, 4], n_columns=3)
    bags[2][3, 1] = np.nan
    with pytest.raises(
        ValueError, match=re.escape("X[2] holds NaN or infinity (its row 3)")
    ):
        BagPooling().fit(bags)
    pooling = BagPooling().fit(bags[:2])
    bags[2][3, 1] = np.inf
    with pytest.raises(ValueError, match=re.escape("X[2] holds NaN or infinity")):
        pooling.transform(bags)


@pytest.mark.parametrize(
    "estimator", bag_transformers(), ids=lambda e: type(e).__name__
)
def test_bag_transformers_behave_like_estimators_on_bags(estimator):
    bags, _ = key_instance_bags(20, seed=11)
    originals = [bag.copy() for bag in bags]
    params = estimator.get_params()
    assert estimator.fit(bags) is estimator
    # fit leaves the parameters and the input as they were
    assert estimator.get_params() == params
    for bag, original in zip(bags, originals, strict=True):
        np.testing.assert_array_equal(bag, original)
    first = estimator.transform(bags)
    # fitting again on the same bags gives the same transformer
    second = estimator.fit(bags).transform(bags)
    third = clone(estimator).fit_transform(bags)
    restored = pickle.loads(pickle.dumps(estimator))
    for other in (second, third, restored.transform(bags)):
        for got, want in zip(other, first, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12)
    assert not hasattr(clone(estimator), "n_columns_")


def test_bag_row_transformer_transforms_the_rows_of_each_bag():
    bags, _ = key_instance_bags(15, seed=12)
    scaler = BagRowTransformer(StandardScaler()).fit(bags)
    rows = np.vstack(bags)
    np.testing.assert_allclose(scaler.transformer_.mean_, rows.mean(axis=0))
    expected = StandardScaler().fit(rows).transform(rows)
    transformed = scaler.transform(bags)
    assert isinstance(transformed, list)
    assert [len(bag) for bag in transformed] == [len(bag) for bag in bags]
    np.testing.assert_allclose(np.vstack(transformed), expected, rtol=1e-12)
    for got in scaler.fit_transform(bags):
        assert got.shape[1] == 4
    # 3-D blocks in, 3-D blocks out
    blocks = np.random.default_rng(13).normal(size=(5, 3, 4))
    out = BagRowTransformer(PCA(n_components=2)).fit(blocks).transform(blocks)
    assert out.shape == (5, 3, 2)
    pca = PCA(n_components=2).fit(blocks.reshape(15, 4))
    np.testing.assert_allclose(out.reshape(15, 2), pca.transform(blocks.reshape(15, 4)))


def test_bag_row_transformer_feature_names():
    bags = random_bags([2, 3], n_columns=3)
    pca = BagRowTransformer(PCA(n_components=2)).fit(bags)
    assert pca.get_feature_names_out().tolist() == ["pca0", "pca1"]
    scaler = BagRowTransformer(StandardScaler()).fit(bags)
    assert scaler.get_feature_names_out(["a", "b", "c"]).tolist() == ["a", "b", "c"]
    assert scaler.get_feature_names_out().tolist() == ["x0", "x1", "x2"]
    with pytest.raises(ValueError, match="input_features should have length equal"):
        scaler.get_feature_names_out(["a"])
    # Bags are no table: there is no pandas output of them.
    assert not hasattr(scaler, "set_output")
    without_names = BagRowTransformer(FunctionTransformer(np.abs)).fit(bags)
    assert not hasattr(without_names, "get_feature_names_out")


class _DropsRows(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X[1:]


@pytest.mark.parametrize(
    "transformer, error, match",
    [
        ("scaler", ValueError, "'transformer' parameter of BagRowTransformer must be"),
        (
            OneHotEncoder(),
            TypeError,
            "dense output from its transformer; OneHotEncoder returned a sparse",
        ),
        (
            _DropsRows(),
            ValueError,
            re.escape("_DropsRows mapped rows of shape (5, 3) to an output of shape "),
        ),
    ],
)
def test_bag_row_transformer_refuses_what_does_not_map_rows(transformer, error, match):
    with pytest.raises(error, match=match):
        BagRowTransformer(transformer).fit_transform(random_bags([2, 3], n_columns=3))


def test_bag_row_transformer_is_fitted_on_the_training_bags_only():
    bags, y = key_instance_bags(40, seed=14)
    model = make_pipeline(
        BagRowTransformer(StandardScaler()), BagPooling(), LogisticRegression()
    )
    cv = StratifiedKFold(4, shuffle=True, random_state=0)
    results = cross_validate(model, bags, y, cv=cv, return_estimator=True)
    for fitted, (train, _) in zip(results["estimator"], cv.split(bags, y), strict=True):
        training_rows = np.vstack([bags[i] for i in train])
        np.testing.assert_allclose(
            fitted[0].transformer_.mean_, training_rows.mean(axis=0), rtol=1e-12
        )
        assert not np.allclose(
            fitted[0].transformer_.mean_, np.vstack(bags).mean(axis=0), rtol=1e-6
        )


def test_pooled_pipelines_find_the_key_instance():
    bags, y = key_instance_bags(120, seed=0)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    # Measured: mean pooling 0.78 (the key row is diluted in large bags); max
    # pooling, and the default mean-max-min pooling, 1.0.
    pooled = make_pipeline(
        BagRowTransformer(StandardScaler()), BagPooling(), LogisticRegression()
    )
    assert cross_val_score(pooled, bags, y, cv=cv).mean() >= 0.95
    classic = make_pipeline(BagPooling(), StandardScaler(), SVC())
    assert cross_val_score(classic, bags, y, cv=cv).mean() >= 0.95
    search = GridSearchCV(
        pooled,
        {"bagpooling__statistics": [("mean",), ("max",)]},
        cv=cv,
    ).fit(bags, y)
    assert search.best_params_ == {"bagpooling__statistics": ("max",)}
    scores = search.cv_results_["mean_test_score"]
    assert scores[1] > scores[0]
    # A fitted pipeline survives pickling and predicts bags one at a time alike.
    fitted = pickle.loads(pickle.dumps(search.best_estimator_))
    np.testing.assert_array_equal(fitted.predict(bags), search.predict(bags))
    np.testing.assert_array_equal(
        [fitted.predict([bag])[0] for bag in bags[:10]], fitted.predict(bags[:10])
    )


def test_row_second_moments_on_bags_in_a_cross_validated_pipeline():
    # Gene-Perm blocks of 6 rows cut to bags of 1 to 6 rows: the pooled moments
    # of a bag still separate the classes, through clone, indexing and folds.
    X, y = make_geneperm(400, n_columns=6, block_size=6, flatten=False, random_state=15)
    sizes = np.random.default_rng(16).integers(1, 7, size=len(X))
    bags = [block[:size] for block, size in zip(X, sizes, strict=True)]
    model = make_pipeline(
        RowSecondMoments(), StandardScaler(), LogisticRegression(C=100, max_iter=1000)
    )
    accuracy = cross_val_score(model, bags, y, cv=4).mean()
    # A positive bag of b rows looks negative with probability 2**-b; with sizes
    # uniform on 1..6 the best accuracy is 1 - mean(2**-b) / 2.
    ceiling = 1 - np.mean(0.5 ** np.arange(1, 7)) / 2
    assert ceiling - 0.1 <= accuracy <= ceiling + binomial_tolerance(ceiling, 400)


@pytest.mark.parametrize(
    "estimator, bad_params, bad_X",
    [
        (BagPooling(), {"statistics": ("mean", "mean")}, None),
        (BagPooling(), {"statistics": 3}, None),
        (BagPooling(), {}, [np.ones((2, 3)), np.full((1, 3), np.nan)]),
        (BagRowTransformer(StandardScaler()), {"transformer": "scaler"}, None),
        (BagRowTransformer(StandardScaler()), {"transformer": OneHotEncoder()}, None),
        (BagRowTransformer(StandardScaler()), {}, np.ones((4, 6))),
    ],
    ids=lambda value: type(value).__name__,
)
def test_a_failed_fit_leaves_a_bag_transformer_unfitted(estimator, bad_params, bad_X):
    bags = random_bags([2, 3], n_columns=3)
    estimator.fit(bags)
    check_is_fitted(estimator)
    estimator.set_params(**bad_params)
    with pytest.raises((ValueError, TypeError)):
        if isinstance(estimator, BagRowTransformer):
            estimator.fit_transform(bags if bad_X is None else bad_X)
        else:
            estimator.fit(bags if bad_X is None else bad_X)
    with pytest.raises(NotFittedError):
        check_is_fitted(estimator)
    assert not [name for name in vars(estimator) if name.endswith("_")]


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_row_second_moments_refuse_non_finite_bags_naming_the_bag(bad):
    rng = np.random.default_rng(0)
    bags = [rng.normal(size=(n, 3)) for n in (2, 1, 4)]
    fitted = RowSecondMoments().fit(bags)
    bags[2][1, 0] = bad
    match = r"RowSecondMoments takes finite rows; X\[2\] holds NaN or infinity"
    with pytest.raises(ValueError, match=match):
        RowSecondMoments().fit(bags)
    with pytest.raises(ValueError, match=match):
        fitted.transform(bags)


def test_bag_pooling_keeps_float64_when_bags_mix_float64_and_integers():
    precise = np.array([[1e8 + 1, 1.0], [2.0, 3.0]])
    counts = np.array([[1, 2]], dtype=np.int64)
    pooled = BagPooling(statistics="mean").fit_transform([precise, counts])
    np.testing.assert_array_equal(pooled[0], precise.mean(axis=0))

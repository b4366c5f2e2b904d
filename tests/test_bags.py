"""Bags of any size through every block classifier: fit, prediction, invariance,
per-row scores, errors, and scikit-learn's tools with lists of bags."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from geneperm_sk import (
    AbsMeanClassifier,
    AttentionMILClassifier,
    DeepSetsClassifier,
    _block_net,
    make_geneperm,
)
from geneperm_sk._layout import bags_from_blocks, check_bags
from geneperm_sk._modules import (
    AbsMeanModule,
    DeepSetsModule,
    GatedAttentionModule,
    segment_softmax,
)

BLOCK_CLASSIFIERS = [AbsMeanClassifier, DeepSetsClassifier, AttentionMILClassifier]
# float32 logits of the same rows grouped in different operations (bags against
# 3-D blocks) agree to a few units in the last place of the values summed.
ROUNDING = 1e-5


def geneperm_bags(
    n_samples=240, sizes=(1, 2, 3, 5, 8), n_columns=8, seed=0, table_seed=None
):
    """Gene-Perm bags of several sizes drawn from one table (drawn from
    ``table_seed``, ``seed`` by default), in random order."""
    _, _, table = make_geneperm(
        2,
        n_columns=n_columns,
        block_size=1,
        return_table=True,
        random_state=seed if table_seed is None else table_seed,
    )
    bags, labels = [], []
    for k, size in enumerate(sizes):
        X, y = make_geneperm(
            n_samples // len(sizes),
            block_size=size,
            table=table,
            flatten=False,
            random_state=seed + 1 + k,
        )
        bags += list(X)
        labels += list(y)
    order = np.random.default_rng(seed).permutation(len(bags))
    return [bags[i] for i in order], np.asarray(labels)[order]


def random_bags(n_bags=60, n_columns=5, largest=30, seed=0):
    """Generic float bags (sums round differently in different kernels)."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, largest + 1, n_bags)
    bags = [
        (rng.standard_normal((size, n_columns)) * 3).astype(np.float32)
        for size in sizes
    ]
    return bags, rng.integers(0, 2, n_bags)


def fit_on_bags(cls, bags, y, **params):
    params = {"device": "cpu", "random_state": 0, "max_epochs": 3, **params}
    return cls(**params).fit(bags, y)


# -- the modules on rows and offsets ------------------------------------------------


@pytest.mark.parametrize(
    "module",
    [
        AbsMeanModule(4),
        DeepSetsModule(4, row_hidden_sizes=(8,), pooling="mean"),
        DeepSetsModule(4, row_hidden_sizes=(8,), pooling="max"),
        DeepSetsModule(4, row_hidden_sizes=(), pooling="sum"),
        GatedAttentionModule(4, row_hidden_sizes=(8,), attention_size=6),
    ],
)
def test_modules_pool_each_bag_of_rows_like_the_block_of_those_rows(module):
    torch.manual_seed(0)
    blocks = [torch.randn(size, 4) for size in (1, 3, 7, 2)]
    rows = torch.cat(blocks)
    offsets = torch.tensor([0, 1, 4, 11, 13])
    logits = module(rows, offsets=offsets)
    expected = torch.cat([module(block.unsqueeze(0)) for block in blocks])
    torch.testing.assert_close(logits, expected, rtol=0, atol=ROUNDING)
    # Gradients flow through the segment pooling to every parameter.
    logits.sum().backward()
    assert all(parameter.grad is not None for parameter in module.parameters())


def test_segment_softmax_sums_to_one_per_bag_and_matches_torch():
    logits = torch.randn(10) * 5
    offsets = torch.tensor([0, 1, 4, 10])
    weights = segment_softmax(logits, offsets)
    for start, stop in zip(offsets[:-1], offsets[1:], strict=True):
        torch.testing.assert_close(
            weights[start:stop], torch.softmax(logits[start:stop], 0)
        )
    assert weights[0] == 1


# -- fit and predict -------------------------------------------------------------


@pytest.mark.parametrize("cls", BLOCK_CLASSIFIERS)
def test_every_classifier_fits_and_predicts_bags_of_any_size(cls):
    bags, y = random_bags()
    model = fit_on_bags(cls, bags, y)
    assert model.block_size_ is None
    assert model.n_columns_ == model.n_features_in_ == 5
    assert not hasattr(model, "feature_names_in_")
    logits = model.decision_function(bags)
    assert logits.shape == (60,) and np.isfinite(logits).all()
    probabilities = model.predict_proba(bags)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1)
    np.testing.assert_array_equal(model.predict(bags), (logits > 0).astype(int))
    assert model.score(bags, y) == np.mean(model.predict(bags) == y)
    # A 1-D object array and a tuple of bags are read the same way.
    as_objects = np.empty(len(bags), dtype=object)
    as_objects[:] = bags
    np.testing.assert_array_equal(model.decision_function(as_objects), logits)
    np.testing.assert_array_equal(model.decision_function(tuple(bags)), logits)


def test_training_batches_hold_batch_size_bags_of_all_their_rows(monkeypatch):
    bags, y = random_bags(n_bags=50, largest=40)
    seen = []
    forward = AbsMeanModule.forward

    def recording_forward(module, X, offsets=None):
        if module.training:
            seen.append((len(X), offsets.tolist()))
        return forward(module, X, offsets)

    monkeypatch.setattr(AbsMeanModule, "forward", recording_forward)
    model = fit_on_bags(
        AbsMeanClassifier, bags, y, batch_size=16, max_epochs=1, early_stopping=False
    )
    # skorch records the batch size in bags, not rows.
    assert model.net_.history[0, "batches", 0, "train_batch_size"] == 16
    assert [len(offsets) - 1 for _, offsets in seen] == [16, 16, 16, 2]
    # Each batch is the bags' rows laid end to end, nothing padded: together
    # the batches hold every row once.
    assert all(n_rows == offsets[-1] for n_rows, offsets in seen)
    assert sum(n_rows for n_rows, _ in seen) == sum(map(len, bags))
    sizes = sorted(np.diff(offsets).tolist() for _, offsets in seen)
    assert sorted(sum(sizes, [])) == sorted(map(len, bags))


def test_absmean_learns_geneperm_from_bags_of_mixed_sizes():
    bags, y = geneperm_bags(n_samples=1000, seed=1)
    # Fresh bags from the same table.
    test_bags, test_y = geneperm_bags(n_samples=1000, seed=11, table_seed=1)
    model = AbsMeanClassifier(device="cpu", random_state=0).fit(bags, y)
    # The spectral start over the bags' rows finds the all-ones direction.
    cosine = model.coef_.sum() / (np.linalg.norm(model.coef_) * np.sqrt(8))
    assert abs(cosine) > 0.99
    # Bayes accuracy averaged over the sizes (1, 2, 3, 5, 8), less a margin of
    # about three standard errors of an accuracy on 1,000 bags.
    bayes = np.mean([1 - 2.0 ** -(size + 1) for size in (1, 2, 3, 5, 8)])
    assert model.score(test_bags, test_y) > bayes - 3 * np.sqrt(0.25 / 1000)


def test_the_spectral_start_of_equal_bags_is_that_of_their_blocks():
    X, y = make_geneperm(300, n_columns=8, block_size=4, flatten=False, random_state=0)
    params = {"device": "cpu", "random_state": 0, "max_epochs": 0}
    on_blocks = AbsMeanClassifier(**params).fit(X, y)
    on_bags = AbsMeanClassifier(**params).fit(list(X), y)
    np.testing.assert_allclose(on_bags.coef_, on_blocks.coef_, rtol=1e-9)
    np.testing.assert_allclose(
        on_bags.decision_function(list(X)), on_blocks.decision_function(X), atol=1e-9
    )


def test_the_spectral_start_separates_training_bags_that_separate():
    # Labels from the instance truth: the start's scores separate the classes,
    # and its threshold is placed by the size of the largest bag.
    X, _, instance_labels = make_geneperm(
        400,
        n_columns=10,
        block_size=8,
        flatten=False,
        return_instance_labels=True,
        random_state=0,
    )
    sizes = np.random.default_rng(0).integers(1, 9, size=len(X))
    bags = [block[:size] for block, size in zip(X, sizes, strict=True)]
    y = np.array(
        [
            labels[:size].any()
            for labels, size in zip(instance_labels, sizes, strict=True)
        ],
        dtype=int,
    )
    start = AbsMeanClassifier(device="cpu", max_epochs=0, random_state=0)
    assert start.fit(bags, y).score(bags, y) == 1.0


@pytest.mark.parametrize("cls", BLOCK_CLASSIFIERS)
def test_int8_float32_and_float64_bags_give_the_same_model(cls):
    bags, y = geneperm_bags(n_samples=100, sizes=(2, 3))
    logits = [
        fit_on_bags(cls, [bag.astype(dtype) for bag in bags], y).decision_function(bags)
        for dtype in (np.int8, np.float32, np.float64)
    ]
    np.testing.assert_allclose(logits[0], logits[1], rtol=0, atol=ROUNDING)
    np.testing.assert_allclose(logits[2], logits[1], rtol=1e-4, atol=ROUNDING)


# -- a bag's prediction does not depend on what else is predicted -----------------


@pytest.mark.parametrize("cls", BLOCK_CLASSIFIERS)
@pytest.mark.parametrize("chunk_values", [None, 4096])
def test_bag_scores_are_bit_identical_alone_sliced_permuted_and_whole(
    cls, chunk_values, monkeypatch
):
    if chunk_values is not None:  # passes of 64 rows: bags span several passes
        monkeypatch.setattr(_block_net, "_CHUNK_VALUES", chunk_values)
    bags, y = random_bags(n_bags=80, largest=150, seed=3)
    bags.append(np.random.default_rng(4).standard_normal((700, 5)).astype("f4"))
    y = np.append(y, 1)
    model = fit_on_bags(cls, bags, y, max_epochs=2)
    whole = model.decision_function(bags)
    alone = [model.decision_function([bag])[0] for bag in bags[:20] + bags[-1:]]
    np.testing.assert_array_equal(alone, np.r_[whole[:20], whole[-1:]])
    for start, stop in [(0, 1), (3, 50), (17, 81), (80, 81)]:
        np.testing.assert_array_equal(
            model.decision_function(bags[start:stop]), whole[start:stop]
        )
    order = np.random.default_rng(5).permutation(len(bags))
    np.testing.assert_array_equal(
        model.decision_function([bags[i] for i in order]), whole[order]
    )


@pytest.mark.parametrize("cls", BLOCK_CLASSIFIERS)
def test_equal_bags_agree_with_their_3d_blocks_up_to_rounding(cls):
    rng = np.random.default_rng(6)
    X = (rng.standard_normal((50, 4, 5)) * 3).astype(np.float32)
    y = rng.integers(0, 2, 50)
    for fitted_on in (X, list(X)):
        model = fit_on_bags(cls, fitted_on, y)
        on_blocks = model.decision_function(X)
        on_bags = model.decision_function(list(X))
        scale = np.maximum(1, np.abs(on_blocks))
        assert np.all(np.abs(on_bags - on_blocks) <= ROUNDING * scale)
        assert np.any(on_bags != 0)


def test_a_bag_model_predicts_3d_blocks_of_any_size_and_refuses_2d():
    bags, y = random_bags()
    model = fit_on_bags(AttentionMILClassifier, bags, y)
    rng = np.random.default_rng(7)
    for block_size in (1, 6):
        X = rng.standard_normal((4, block_size, 5)).astype(np.float32)
        np.testing.assert_allclose(
            model.decision_function(X),
            model.decision_function(list(X)),
            rtol=0,
            atol=ROUNDING,
        )
        assert model.row_scores(X).shape == (4, block_size)
    with pytest.raises(ValueError, match="fitted on bags of rows.*sequence of bags"):
        model.predict(np.zeros((3, 10)))
    with pytest.raises(ValueError, match="rows of 5 columns.*\\(n_samples, 2, 4\\)"):
        model.predict(np.zeros((3, 2, 4)))


def test_a_block_model_predicts_bags_of_any_size():
    X, y = make_geneperm(300, n_columns=6, block_size=3, random_state=0)
    model = AbsMeanClassifier(n_columns=6, device="cpu", random_state=0).fit(X, y)
    assert model.block_size_ == 3
    blocks = X.reshape(300, 3, 6)
    bags = [blocks[0], blocks[1, :1], np.concatenate(blocks[2:6])]
    logits = model.decision_function(bags)
    expected = [
        model.output_coef_
        * np.abs(bag.astype(np.float64) @ model.coef_ + model.intercept_).mean()
        + model.output_intercept_
        for bag in bags
    ]
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=ROUNDING)
    with pytest.raises(ValueError, match=r"X\[1\] has shape \(2, 5\).*6"):
        model.predict([blocks[0], np.zeros((2, 5))])


# -- per-row scores ------------------------------------------------------------------


def test_absmean_row_scores_are_the_rows_absolute_linear_scores():
    bags, y = geneperm_bags(n_samples=200)
    model = fit_on_bags(AbsMeanClassifier, bags, y)
    scores = model.row_scores(bags)
    # float32 rounding of a sum of +-1 terms, relative to the terms' size.
    tolerance = ROUNDING * (np.abs(model.coef_).sum() + abs(model.intercept_))
    assert isinstance(scores, list) and len(scores) == len(bags)
    for bag, bag_scores in zip(bags, scores, strict=True):
        assert bag_scores.shape == (len(bag),)
        np.testing.assert_allclose(
            bag_scores, np.abs(bag @ model.coef_ + model.intercept_), atol=tolerance
        )
    blocks = np.stack([bag for bag in bags if len(bag) == 3])
    np.testing.assert_allclose(
        model.row_scores(blocks),
        np.abs(blocks @ model.coef_ + model.intercept_),
        atol=tolerance,
    )


def test_attention_row_scores_are_the_weights_and_row_attention_their_alias():
    bags, y = random_bags()
    model = fit_on_bags(AttentionMILClassifier, bags, y)
    scores = model.row_scores(bags)
    for bag, weights in zip(bags, scores, strict=True):
        assert weights.shape == (len(bag),) and (weights >= 0).all()
        np.testing.assert_allclose(weights.sum(), 1, rtol=1e-5)
    for weights, alias in zip(scores, model.row_attention(bags), strict=True):
        np.testing.assert_array_equal(weights, alias)
    X = np.stack([bag[:1] for bag in bags])
    np.testing.assert_array_equal(model.row_scores(X), np.ones((60, 1)))


def test_deepsets_has_no_row_scores():
    bags, y = random_bags()
    model = fit_on_bags(DeepSetsClassifier, bags, y)
    assert not hasattr(model, "row_scores")
    assert not hasattr(DeepSetsClassifier(), "row_scores")
    assert hasattr(AbsMeanClassifier(), "row_scores")


@pytest.mark.parametrize("cls", [AbsMeanClassifier, AttentionMILClassifier])
def test_row_scores_are_bit_identical_alone_and_in_any_company(cls, monkeypatch):
    monkeypatch.setattr(_block_net, "_CHUNK_VALUES", 4096)
    bags, y = random_bags(largest=200, seed=8)
    model = fit_on_bags(cls, bags, y)
    whole = model.row_scores(bags)
    for i in (0, 7, 59):
        np.testing.assert_array_equal(model.row_scores([bags[i]])[0], whole[i])
    order = np.random.default_rng(9).permutation(len(bags))
    reordered = model.row_scores([bags[i] for i in order])
    for i, scores in zip(order, reordered, strict=True):
        np.testing.assert_array_equal(scores, whole[i])


# -- errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bags, match",
    [
        ([np.ones((2, 3)), np.ones((0, 3))], r"empty bag: X\[1\]"),
        ([np.ones((2, 3)), np.ones(3)], r"X\[1\] is a ndarray of shape \(3,\)"),
        ([np.ones(3), np.ones((2, 3))], r"X\[0\] is a ndarray.*mixes bags"),
        ([np.ones((2, 3)), np.ones((2, 3, 1))], r"X\[1\] is a ndarray of shape"),
        ([np.ones((2, 3)), np.ones((1, 4))], r"X\[1\] has shape \(1, 4\)"),
        ([np.ones((2, 3)), np.array([["a", "b", "c"]])], r"X\[1\] has dtype"),
        ([np.ones((2, 3)), np.ones((1, 3), dtype=complex)], r"X\[1\] has dtype com"),
    ],
)
def test_malformed_bags_are_named_by_index(bags, match):
    with pytest.raises(ValueError, match=match):
        AbsMeanClassifier(device="cpu").fit(bags, [0, 1])


def test_training_errors_name_what_is_wrong():
    bags, y = random_bags(n_bags=10)
    model = AbsMeanClassifier(device="cpu")
    with pytest.raises(ValueError, match="10 bags in X but 9 labels in y"):
        model.fit(bags, y[:9])
    with pytest.raises(ValueError, match="5 columns in X, but n_columns=4"):
        model.set_params(n_columns=4).fit(bags, y)
    with pytest.raises(ValueError, match="block_size=3.*leave it None for bags"):
        model.set_params(n_columns=None, block_size=3).fit(bags, y)
    bags[4] = bags[4].copy()
    bags[4][0, 1] = np.nan
    with pytest.raises(ValueError, match=r"X\[4\] holds NaN or infinity \(its row 0\)"):
        DeepSetsClassifier(device="cpu").fit(bags, y)


@pytest.mark.parametrize("cls", BLOCK_CLASSIFIERS)
def test_non_finite_bags_are_named_at_prediction(cls):
    # AbsMean checks only when a score is not finite; the others first.
    bags, y = random_bags()
    model = fit_on_bags(cls, bags, y)
    bags[3] = np.full((2, 5), np.inf, dtype=np.float32)
    with pytest.raises(ValueError, match=r"X\[3\] holds NaN or infinity"):
        model.predict(bags)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("cls", BLOCK_CLASSIFIERS)
def test_non_finite_blocks_are_named_by_a_model_fitted_on_bags(cls, bad):
    # A model fitted on bags predicts 3-D blocks of any size: they are checked
    # as blocks are, with scikit-learn's error.
    bags, y = random_bags()
    model = fit_on_bags(cls, bags, y)
    blocks = np.ones((6, 3, 5), dtype=np.float32)
    blocks[4, 2, 1] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        model.predict(blocks)


# -- scikit-learn's tools with lists of bags ---------------------------------------


@pytest.mark.parametrize("cls", BLOCK_CLASSIFIERS)
def test_bags_work_in_pipelines_cross_validation_and_searches(cls):
    bags, y = geneperm_bags(n_samples=120, sizes=(2, 4, 6))
    model = cls(device="cpu", random_state=0, max_epochs=2)
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    pipeline = make_pipeline(
        FunctionTransformer(lambda bags: [2 * bag for bag in bags]), model
    )
    scores = cross_val_score(pipeline, bags, y, cv=folds)
    assert scores.shape == (3,) and np.all((scores >= 0) & (scores <= 1))
    results = cross_validate(model, bags, y, cv=folds, scoring="roc_auc")
    assert np.isfinite(results["test_score"]).all()
    search = GridSearchCV(model, {"lr": [0.01, 0.003]}, cv=folds).fit(bags, y)
    assert search.best_estimator_.block_size_ is None
    assert search.predict(bags).shape == (len(bags),)
    # A fold's model predicts each bag as it does when the bag is alone.
    fitted = pipeline.fit(bags, y)
    np.testing.assert_array_equal(
        fitted.decision_function(bags[:5]),
        [fitted.decision_function([bag])[0] for bag in bags[:5]],
    )


@pytest.mark.parametrize("cls", BLOCK_CLASSIFIERS)
def test_bag_models_clone_pickle_save_and_load_bit_for_bit(cls, tmp_path):
    bags, y = random_bags()
    model = fit_on_bags(cls, bags, y)
    assert clone(model).get_params() == model.get_params()
    assert not hasattr(clone(model), "n_columns_")
    logits = model.decision_function(bags)
    unpickled = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(unpickled.decision_function(bags), logits)
    path = tmp_path / "model.json"
    model.save(path)
    loaded = cls.load(path)
    assert (loaded.block_size_, loaded.n_columns_, loaded.n_features_in_) == (
        None,
        5,
        5,
    )
    np.testing.assert_array_equal(loaded.decision_function(bags), logits)
    if hasattr(model, "row_scores"):
        for saved, fitted in zip(
            loaded.row_scores(bags), model.row_scores(bags), strict=True
        ):
            np.testing.assert_array_equal(saved, fitted)


# -- the layout ----------------------------------------------------------------------


def test_bags_hold_the_rows_once_with_offsets():
    bags = check_bags([np.ones((2, 3)), np.zeros((1, 3), np.int8)], "Model")
    # The dtype numpy promotes the bags to, when kept: float64 loses nothing.
    assert bags.rows.dtype == np.float64 and bags.rows.shape == (3, 3)
    mixed = [np.ones((2, 3), np.float32), np.zeros((1, 3), np.int16)]
    assert check_bags(mixed, "Model").rows.dtype == np.float32
    assert check_bags([np.ones((1, 3), bool)], "Model").rows.dtype == np.float32
    np.testing.assert_array_equal(bags.offsets, [0, 2, 3])
    blocks = np.arange(24.0).reshape(2, 3, 4)
    as_bags = bags_from_blocks(blocks)
    assert np.shares_memory(as_bags.rows, blocks)
    np.testing.assert_array_equal(as_bags.bag(1), blocks[1])


def test_an_empty_list_of_bags_is_named_at_prediction():
    bags, y = random_bags()
    model = fit_on_bags(AbsMeanClassifier, bags, y)
    for method in (model.predict, model.row_scores):
        with pytest.raises(ValueError, match="got X with no bags"):
            method([])

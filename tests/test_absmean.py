import math
import pickle

import numpy as np
import pytest
import scipy.sparse
import torch
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from geneperm_sk import AbsMeanClassifier, bayes_accuracy, make_geneperm

requires_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device"
)


def standard_error(accuracy, n_samples):
    return math.sqrt(accuracy * (1 - accuracy) / n_samples)


def cosine_with_ones(weights):
    return abs(weights.sum()) / (np.linalg.norm(weights) * math.sqrt(len(weights)))


@pytest.fixture(scope="module")
def geneperm_data():
    """Training and fresh test data of blocks of 2 rows of 10 columns."""
    X, y, table = make_geneperm(
        1500,
        n_columns=10,
        block_size=2,
        n_table_rows=200,
        return_table=True,
        random_state=0,
    )
    X_test, y_test = make_geneperm(20_000, block_size=2, table=table, random_state=1)
    return X, y, X_test, y_test


@pytest.fixture(scope="module")
def fitted(geneperm_data):
    X, y, _, _ = geneperm_data
    return AbsMeanClassifier(n_columns=10, device="cpu", random_state=0).fit(X, y)


def test_reaches_bayes_accuracy_with_weights_parallel_to_ones(fitted, geneperm_data):
    _, _, X_test, y_test = geneperm_data
    ceiling = bayes_accuracy(2)
    accuracy = fitted.score(X_test, y_test)
    assert abs(accuracy - ceiling) <= 4 * standard_error(ceiling, len(y_test))
    assert cosine_with_ones(fitted.coef_) > 0.999


def test_fitted_attributes(fitted):
    assert fitted.block_size_ == 2
    assert fitted.n_columns_ == 10
    assert fitted.n_features_in_ == 20
    assert fitted.coef_.shape == (10,)
    for name in ("intercept_", "output_coef_", "output_intercept_"):
        assert isinstance(getattr(fitted, name), float)
    assert fitted.device_ == torch.device("cpu")
    assert len(fitted.net_.history) >= 1
    np.testing.assert_array_equal(fitted.classes_, [0, 1])


def test_unfitted_model_raises_not_fitted_error():
    clf = AbsMeanClassifier(block_size=1)
    with pytest.raises(NotFittedError):
        clf.predict(np.ones((2, 4)))
    with pytest.raises(NotFittedError):
        clf.coef_  # noqa: B018


def test_outputs_have_sklearn_shapes_and_agree(fitted, geneperm_data):
    _, _, X_test, _ = geneperm_data
    X_small = X_test[:50]
    probabilities = fitted.predict_proba(X_small)
    logits = fitted.decision_function(X_small)
    predictions = fitted.predict(X_small)
    assert probabilities.shape == (50, 2)
    assert logits.shape == (50,)
    assert predictions.shape == (50,)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1)
    np.testing.assert_allclose(probabilities[:, 1], 1 / (1 + np.exp(-logits)))
    np.testing.assert_array_equal(predictions, (logits > 0).astype(int))


# -- layouts -------------------------------------------------------------------


def test_block_size_or_n_columns_infers_the_other(geneperm_data):
    X, y, _, _ = geneperm_data
    by_columns = AbsMeanClassifier(n_columns=10, max_epochs=0).fit(X, y)
    by_block = AbsMeanClassifier(block_size=2, max_epochs=0).fit(X, y)
    assert (by_block.block_size_, by_block.n_columns_) == (2, 10)
    np.testing.assert_array_equal(by_columns.predict(X), by_block.predict(X))


def test_three_dimensional_input_needs_no_layout(geneperm_data):
    X, y, _, _ = geneperm_data
    blocks = X.reshape(len(X), 2, 10)
    clf = AbsMeanClassifier(random_state=0).fit(blocks, y)
    flat = AbsMeanClassifier(n_columns=10, random_state=0).fit(X, y)
    assert (clf.block_size_, clf.n_columns_, clf.n_features_in_) == (2, 10, 20)
    np.testing.assert_array_equal(clf.predict(blocks), clf.predict(X))
    np.testing.assert_allclose(clf.decision_function(X), flat.decision_function(X))
    AbsMeanClassifier(block_size=2, n_columns=10, max_epochs=0).fit(blocks, y)


@pytest.mark.parametrize(
    "params, X_shape, match",
    [
        ({}, (20, 6), "exactly one of block_size and n_columns .* got block_size=None"),
        (
            {"block_size": 2, "n_columns": 3},
            (20, 6),
            "exactly one of block_size and n_columns",
        ),
        (
            {"n_columns": 4},
            (20, 6),
            "6 features, which is not a multiple of n_columns=4",
        ),
        ({"block_size": 4}, (20, 6), "not a multiple of block_size=4"),
        ({"block_size": 3}, (20, 2, 3), "sets block_size=2, but block_size=3"),
        ({"n_columns": 2}, (20, 2, 3), "sets n_columns=3, but n_columns=2"),
    ],
)
def test_inconsistent_layout_is_an_error(params, X_shape, match):
    X = np.ones(X_shape)
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match=match):
        AbsMeanClassifier(**params).fit(X, y)


def test_prediction_input_must_match_the_fitted_layout(fitted):
    with pytest.raises(ValueError, match="X has 30 features, but AbsMeanClassifier"):
        fitted.predict(np.ones((3, 30)))
    with pytest.raises(ValueError, match="fitted on blocks of 2 rows of 10 columns"):
        fitted.predict(np.ones((3, 4, 5)))


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.full((20, 4), np.nan), ValueError, "NaN"),
        (np.full((20, 4), np.inf), ValueError, "infinity"),
        (np.ones((0, 4)), ValueError, "0 sample"),
        (scipy.sparse.csr_matrix(np.ones((20, 4))), TypeError, "[Ss]parse"),
        (np.ones(20), ValueError, "Expected 2D array"),
        (
            np.ones((20, 2, 2, 1)),
            ValueError,
            r"got a 4-D array of shape \(20, 2, 2, 1\)",
        ),
    ],
)
def test_invalid_training_data_gets_sklearn_errors(X, error, match):
    y = np.arange(X.shape[0]) % 2
    with pytest.raises(error, match=match):
        AbsMeanClassifier(block_size=1).fit(X, y)


# -- labels --------------------------------------------------------------------


@pytest.mark.parametrize(
    "labels",
    [np.array(["no", "yes"]), np.array([False, True]), np.array([7, -3])],
    ids=["strings", "bools", "ints"],
)
def test_any_two_labels_are_returned_as_given(geneperm_data, labels):
    X, y, X_test, y_test = geneperm_data
    clf = AbsMeanClassifier(n_columns=10, random_state=0).fit(X, labels[y])
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    predictions = clf.predict(X_test)
    assert predictions.dtype == labels.dtype
    assert set(predictions) <= set(labels)
    # Whichever label sorts second, the model learns the same rule.
    ceiling = bayes_accuracy(2)
    accuracy = np.mean(predictions == labels[y_test])
    assert abs(accuracy - ceiling) <= 4 * standard_error(ceiling, len(y_test))


def test_one_class_is_an_error():
    with pytest.raises(ValueError, match="exactly 2 classes in y; got 1 class"):
        AbsMeanClassifier(block_size=1).fit(np.ones((10, 2)), np.zeros(10))


def test_more_than_two_classes_is_an_error():
    with pytest.raises(ValueError, match="Only binary classification is supported"):
        AbsMeanClassifier(block_size=1).fit(np.ones((9, 2)), np.arange(9) % 3)


# -- parameters ----------------------------------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        ({"block_size": 0}, "'block_size' parameter of AbsMeanClassifier"),
        ({"n_columns": 2.5}, "'n_columns' parameter of AbsMeanClassifier"),
        ({"init": "zeros"}, "'init' parameter .* \\{.*'random'.*\\}. Got 'zeros'"),
        ({"lr": 0}, "'lr' parameter .* range \\(0.0, inf\\). Got 0"),
        ({"max_epochs": -1}, "'max_epochs' parameter .* Got -1"),
        ({"batch_size": 0}, "'batch_size' parameter .* Got 0"),
        ({"early_stopping": "yes"}, "'early_stopping' parameter .* Got 'yes'"),
        ({"validation_fraction": 1.0}, "'validation_fraction' parameter .* Got 1.0"),
        ({"n_iter_no_change": 0}, "'n_iter_no_change' parameter .* Got 0"),
        ({"n_iter_to_first_gain": 0}, "'n_iter_to_first_gain' parameter .* Got 0"),
        (
            {"n_iter_to_first_gain": "soon"},
            "'n_iter_to_first_gain' parameter .* \\{'auto'\\}. Got 'soon'",
        ),
        ({"device": 3}, "'device' parameter .* Got 3"),
        ({"device": "tpu:x"}, "'device' parameter .* 'cuda:N' .* Got 'tpu:x'"),
        ({"device": "mps"}, "'device' parameter .* Got 'mps', a 'mps' device"),
        ({"device": "meta"}, "'device' parameter .* Got 'meta', a 'meta' device"),
        ({"max_samples_per_epoch": 0}, "'max_samples_per_epoch' .* Got 0"),
        (
            {"max_samples_per_epoch": "fast"},
            "'max_samples_per_epoch' parameter .* \\{'auto'\\}. Got 'fast'",
        ),
        ({"random_state": "seed"}, "'random_state' parameter .* Got 'seed'"),
        ({"verbose": "loud"}, "'verbose' parameter .* Got 'loud'"),
    ],
)
def test_invalid_parameters_raise_naming_the_parameter(params, match):
    X, y = np.ones((20, 4)), np.arange(20) % 2
    with pytest.raises(ValueError, match=match):
        AbsMeanClassifier(**{"block_size": 1, **params}).fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(
        ValueError, match="device' parameter .* 'cuda', but CUDA is not"
    ):
        AbsMeanClassifier(block_size=1, device="cuda").fit(
            np.ones((20, 4)), np.arange(20) % 2
        )


def test_auto_device_resolves_to_an_available_device(geneperm_data):
    X, y, _, _ = geneperm_data
    clf = AbsMeanClassifier(n_columns=10, max_epochs=1).fit(X[:200], y[:200])
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert clf.device_.type == expected


# -- training ------------------------------------------------------------------


def test_early_stopping_keeps_the_initial_parameters_when_training_hurts(
    geneperm_data,
):
    X, y, X_test, y_test = geneperm_data
    # A learning rate this large wrecks the weights within an epoch.
    settings = dict(n_columns=10, lr=30.0, max_epochs=3, random_state=0)
    guarded = AbsMeanClassifier(early_stopping=True, **settings).fit(X, y)
    unguarded = AbsMeanClassifier(early_stopping=False, **settings).fit(X, y)
    early_stopping = dict(guarded.net_.callbacks_)["early_stopping"]
    assert early_stopping.best_epoch_ == 0
    assert cosine_with_ones(guarded.coef_) > 0.999
    assert guarded.score(X_test, y_test) > unguarded.score(X_test, y_test) + 0.02


def test_without_a_gain_the_spectral_start_gets_one_epoch_by_default(geneperm_data):
    X, y, _, _ = geneperm_data
    # The start is at the ceiling: no epoch gains on it.
    default = AbsMeanClassifier(n_columns=10, random_state=0).fit(X, y)
    assert len(default.net_.history) == 1
    assert dict(default.net_.callbacks_)["early_stopping"].best_epoch_ == 0
    longer = AbsMeanClassifier(n_columns=10, n_iter_to_first_gain=3, random_state=0)
    longer.fit(X, y)
    assert len(longer.net_.history) == 3
    assert dict(longer.net_.callbacks_)["early_stopping"].best_epoch_ == 0


def test_a_random_start_waits_for_a_gain_as_long_as_training_runs(geneperm_data):
    X, y, _, _ = geneperm_data
    # With n_iter_no_change=5 after a gain, 4 epochs run whether or not one of
    # them gains; a wait of one epoch would stop a start that has not after 1.
    clf = AbsMeanClassifier(n_columns=10, init="random", max_epochs=4, random_state=0)
    assert len(clf.fit(X, y).net_.history) == 4


def epoch_samples(model):
    """The training samples each epoch of a fitted model visited."""
    return [
        sum(batch.get("train_batch_size", 0) for batch in epoch["batches"])
        for epoch in model.net_.history
    ]


@pytest.mark.parametrize(
    ("init", "max_samples_per_epoch", "per_epoch"),
    [
        ("spectral", "auto", 1024),
        ("random", "auto", 5000),
        ("spectral", 3000, 3000),
        ("random", 700, 700),
        ("spectral", None, 5400),  # full passes over the 5,400 training samples
    ],
)
def test_auto_epochs_are_short_after_the_spectral_start_only(
    init, max_samples_per_epoch, per_epoch
):
    X, y = make_geneperm(6000, n_columns=6, block_size=4, random_state=0)
    model = AbsMeanClassifier(
        n_columns=6,
        init=init,
        max_samples_per_epoch=max_samples_per_epoch,
        n_iter_to_first_gain=2,
        max_epochs=2,
        random_state=0,
    ).fit(X, y)
    assert epoch_samples(model) == [per_epoch, per_epoch]


def test_shorter_epochs_take_the_same_batches(geneperm_data):
    # Each epoch takes the next samples of one running order: without early
    # stopping, 4 epochs of 512 samples train exactly as 2 of 1,024.
    X, y, _, _ = geneperm_data
    settings = dict(n_columns=10, early_stopping=False, random_state=0)
    short = AbsMeanClassifier(max_samples_per_epoch=512, max_epochs=4, **settings)
    long = AbsMeanClassifier(max_samples_per_epoch=1024, max_epochs=2, **settings)
    np.testing.assert_array_equal(short.fit(X, y).coef_, long.fit(X, y).coef_)
    assert epoch_samples(short) == [512] * 4


def test_a_kept_start_is_estimated_from_all_the_samples(geneperm_data):
    X, y, _, _ = geneperm_data
    X, y = X[:60], y[:60]
    kept = AbsMeanClassifier(n_columns=10, random_state=0).fit(X, y)
    assert dict(kept.net_.callbacks_)["early_stopping"].best_epoch_ == 0
    # max_epochs=0 sets nothing aside: the start from all 60 samples.
    start = AbsMeanClassifier(n_columns=10, max_epochs=0, random_state=0).fit(X, y)
    np.testing.assert_array_equal(kept.coef_, start.coef_)


def test_the_gain_test_reads_the_validation_losses_of_the_start(
    geneperm_data, monkeypatch
):
    X, y, _, _ = geneperm_data
    computed = []
    validation_losses = AbsMeanClassifier._validation_losses

    def recorded(self, module, subset):
        computed.append(validation_losses(self, module, subset))
        return computed[-1]

    monkeypatch.setattr(AbsMeanClassifier, "_validation_losses", recorded)
    clf = AbsMeanClassifier(n_columns=10, random_state=0).fit(X, y)
    early_stopping = dict(clf.net_.callbacks_)["early_stopping"]
    initial_losses = computed[0]
    assert initial_losses.shape == (math.ceil(0.1 * len(X)),)
    assert early_stopping.initial_score == pytest.approx(
        initial_losses.mean(), rel=1e-12
    )
    assert early_stopping.gain_standard_errors == 2.0
    # Neither the function that reads the validation data nor the per-sample
    # losses are kept after fit.
    assert early_stopping.sample_losses is None
    assert early_stopping.initial_losses is None


def test_early_stopping_auto_trains_on_all_samples_when_data_are_few():
    X, y = make_geneperm(8, n_columns=4, block_size=2, random_state=3)
    assert np.bincount(y).min() >= 2  # two classes, but too few for a split
    clf = AbsMeanClassifier(n_columns=4, max_epochs=2).fit(X, y)
    assert "early_stopping" not in dict(clf.net_.callbacks_)
    assert clf.net_.history[-1, "train_batch_count"] == 1
    with pytest.raises(ValueError, match="early_stopping=True .* Pass early_stopping"):
        AbsMeanClassifier(n_columns=4, early_stopping=True).fit(X, y)


def test_random_init_differs_from_spectral_init(geneperm_data):
    X, y, _, _ = geneperm_data
    settings = dict(n_columns=10, max_epochs=0, random_state=0)
    spectral = AbsMeanClassifier(**settings).fit(X, y)
    random = AbsMeanClassifier(init="random", **settings).fit(X, y)
    assert cosine_with_ones(spectral.coef_) > 0.999
    assert cosine_with_ones(random.coef_) < 0.99


def test_verbose_controls_the_epoch_table(geneperm_data, capsys):
    X, y, _, _ = geneperm_data
    AbsMeanClassifier(n_columns=10, max_epochs=2, verbose=0).fit(X, y)
    assert capsys.readouterr().out == ""
    AbsMeanClassifier(n_columns=10, max_epochs=2, verbose=1).fit(X, y)
    printed = capsys.readouterr().out
    assert "train_loss" in printed and "valid_loss" in printed


# -- randomness ----------------------------------------------------------------


@pytest.mark.parametrize("init", ["spectral", "random"])
def test_same_seed_gives_identical_predictions(geneperm_data, init):
    X, y, X_test, _ = geneperm_data
    first = AbsMeanClassifier(n_columns=10, init=init, random_state=5).fit(X, y)
    second = AbsMeanClassifier(n_columns=10, init=init, random_state=5).fit(X, y)
    np.testing.assert_array_equal(
        first.decision_function(X_test), second.decision_function(X_test)
    )


def test_different_seeds_initialise_differently(geneperm_data):
    X, y, _, _ = geneperm_data
    settings = dict(n_columns=10, init="random", max_epochs=0)
    first = AbsMeanClassifier(random_state=1, **settings).fit(X, y)
    second = AbsMeanClassifier(random_state=2, **settings).fit(X, y)
    assert not np.array_equal(first.coef_, second.coef_)


@pytest.mark.parametrize("random_state", [0, None, np.random.RandomState(0)])
@pytest.mark.parametrize("init", ["spectral", "random"])
def test_fit_leaves_global_random_state_untouched(geneperm_data, random_state, init):
    X, y, _, _ = geneperm_data
    np.random.seed(123)
    torch.manual_seed(123)
    numpy_before = np.random.get_state()[1].copy()
    torch_before = torch.get_rng_state().clone()
    AbsMeanClassifier(
        n_columns=10, init=init, max_epochs=2, random_state=random_state
    ).fit(X, y)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_before)
    assert torch.equal(torch.get_rng_state(), torch_before)


# -- scikit-learn tools --------------------------------------------------------


def test_grid_search_over_block_size_lr_and_epochs_is_reproducible(geneperm_data):
    X, y, _, _ = geneperm_data
    grid = {"block_size": [1, 2], "lr": [0.01, 0.05], "max_epochs": [1, 3]}

    def search(n_jobs):
        estimator = AbsMeanClassifier(device="cpu", random_state=0)
        return GridSearchCV(estimator, grid, cv=2, n_jobs=n_jobs).fit(X[:600], y[:600])

    parallel, sequential = search(2), search(None)
    np.testing.assert_array_equal(
        parallel.cv_results_["mean_test_score"],
        sequential.cv_results_["mean_test_score"],
    )
    assert parallel.best_params_ == sequential.best_params_
    np.testing.assert_array_equal(
        parallel.best_estimator_.decision_function(X),
        sequential.best_estimator_.decision_function(X),
    )


def test_grid_search_over_n_columns(geneperm_data):
    X, y, _, _ = geneperm_data
    search = GridSearchCV(
        AbsMeanClassifier(random_state=0), {"n_columns": [5, 10, 20]}, cv=3
    ).fit(X[:600], y[:600])
    assert search.best_params_ == {"n_columns": 10}


def test_pipeline_and_cross_val_score(geneperm_data):
    X, y, _, _ = geneperm_data
    # Scaling each feature keeps rows balanced in a rescaled sense: w follows.
    pipeline = make_pipeline(
        StandardScaler(), AbsMeanClassifier(n_columns=10, random_state=0)
    )
    scores = cross_val_score(pipeline, X, y, cv=3)
    ceiling = bayes_accuracy(2)
    assert scores.shape == (3,)
    assert np.all(scores > ceiling - 4 * standard_error(ceiling, len(y) // 3))


def test_calibrated_classifier(geneperm_data):
    X, y, X_test, y_test = geneperm_data
    calibrated = CalibratedClassifierCV(
        AbsMeanClassifier(n_columns=10, random_state=0), cv=3
    ).fit(X, y)
    probabilities = calibrated.predict_proba(X_test)
    assert probabilities.shape == (len(X_test), 2)
    ceiling = bayes_accuracy(2)
    accuracy = calibrated.score(X_test, y_test)
    assert accuracy > ceiling - 4 * standard_error(ceiling, len(y_test))


def test_clone_keeps_parameters_and_drops_fitted_state(fitted):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "net_")


def test_pickle_round_trip_predicts_the_same(fitted, geneperm_data):
    _, _, X_test, _ = geneperm_data
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(
        restored.decision_function(X_test), fitted.decision_function(X_test)
    )
    np.testing.assert_array_equal(restored.coef_, fitted.coef_)


def test_model_saved_from_cuda_loads_on_cpu_only_machine(fitted, geneperm_data):
    # Simulate a model fitted on CUDA: skorch records the device it lived on, and on
    # a machine without CUDA loads it onto the CPU with a warning.
    if torch.cuda.is_available():
        pytest.skip("the machine has CUDA; the real round trip is tested below")
    _, _, X_test, _ = geneperm_data
    pretend_cuda = pickle.loads(pickle.dumps(fitted))
    pretend_cuda.net_.device = "cuda"
    pretend_cuda.device_ = torch.device("cuda")
    payload = pickle.dumps(pretend_cuda)
    with pytest.warns(UserWarning, match="(?i)cuda"):
        restored = pickle.loads(payload)
    assert restored.device_ == torch.device("cpu")
    np.testing.assert_array_equal(
        restored.decision_function(X_test), fitted.decision_function(X_test)
    )


# -- CUDA ----------------------------------------------------------------------


@requires_cuda
def test_cuda_fit_matches_cpu_fit(geneperm_data):
    X, y, X_test, y_test = geneperm_data
    on_cuda = AbsMeanClassifier(n_columns=10, device="cuda", random_state=0).fit(X, y)
    on_cpu = AbsMeanClassifier(n_columns=10, device="cpu", random_state=0).fit(X, y)
    assert on_cuda.device_.type == "cuda"
    assert next(on_cuda.net_.module_.parameters()).is_cuda
    agreement = np.mean(on_cuda.predict(X_test) == on_cpu.predict(X_test))
    assert agreement > 0.99
    ceiling = bayes_accuracy(2)
    accuracy = on_cuda.score(X_test, y_test)
    assert abs(accuracy - ceiling) <= 4 * standard_error(ceiling, len(y_test))


@requires_cuda
def test_cuda_model_unpickles_and_predicts_without_cuda(geneperm_data, monkeypatch):
    X, y, X_test, _ = geneperm_data
    on_cuda = AbsMeanClassifier(n_columns=10, device="cuda", random_state=0).fit(X, y)
    expected = on_cuda.decision_function(X_test)
    payload = pickle.dumps(on_cuda)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="(?i)cuda"):
        restored = pickle.loads(payload)
    assert restored.device_ == torch.device("cpu")
    assert not next(restored.net_.module_.parameters()).is_cuda
    np.testing.assert_allclose(
        restored.decision_function(X_test), expected, rtol=1e-4, atol=1e-4
    )


def test_history_records_the_row_weights_of_every_epoch(geneperm_data):
    X, y, _, _ = geneperm_data
    clf = AbsMeanClassifier(
        n_columns=10, max_epochs=3, early_stopping=False, random_state=0
    ).fit(X, y)
    weights = clf.net_.history[:, "row_weights"]
    assert len(weights) == 3
    assert all(w.shape == (10,) for w in weights)
    np.testing.assert_allclose(weights[-1], clf.coef_, rtol=1e-6)


def test_fitted_model_keeps_no_training_data():
    X, y = make_geneperm(20_000, n_columns=10, block_size=2, random_state=0)
    clf = AbsMeanClassifier(n_columns=10, early_stopping=True, random_state=0)
    payload = pickle.dumps(clf.fit(X, y))
    assert clf.net_.train_split is None
    # The validation tenth of the data alone would take X.nbytes / 10 bytes; the
    # model and its history of at most max_epochs epochs take a few dozen KB.
    assert len(payload) < X.nbytes / 20

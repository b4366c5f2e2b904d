"""What every block classifier inherits from the shared base: batch-invariant
predictions, Ctrl-C and divergence handling, input layouts and dtypes, and the
plain model file."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from threadpoolctl import threadpool_limits

import geneperm_sk
import geneperm_sk._block_net as block_net_module
from geneperm_sk import (
    AbsMeanClassifier,
    AttentionMILClassifier,
    DeepSetsClassifier,
    make_geneperm,
)
from geneperm_sk._batching import BagSubset, BlockBatchIterator, BlockSubset
from geneperm_sk._layout import check_finite_blocks, surely_finite

BLOCK_CLASSIFIERS = [AbsMeanClassifier, DeepSetsClassifier, AttentionMILClassifier]


def small_fit(
    cls=AbsMeanClassifier, n_samples=300, block_size=3, n_columns=6, **params
):
    X, y = make_geneperm(
        n_samples, n_columns=n_columns, block_size=block_size, random_state=0
    )
    params = {"n_columns": n_columns, "device": "cpu", "random_state": 0, **params}
    return cls(**params).fit(X, y), X, y


# -- a sample's prediction does not depend on what else is predicted -------------


@pytest.mark.parametrize("cls", BLOCK_CLASSIFIERS)
@pytest.mark.parametrize(
    "block_size, n_columns, seed",
    [(1, 2, 0), (1, 7, 1), (3, 5, 2), (4, 20, 3), (16, 64, 4), (2, 300, 5)],
)
def test_scores_are_bit_identical_alone_sliced_permuted_and_whole(
    cls, block_size, n_columns, seed
):
    rng = np.random.default_rng(seed)
    # Generic float data: sums of products round differently in different kernels.
    X = rng.standard_normal((200, block_size * n_columns)).astype(np.float32) * 7
    y = rng.integers(0, 2, 200)
    model = cls(n_columns=n_columns, device="cpu", max_epochs=2, random_state=seed)
    model.fit(X, y)
    whole = model.decision_function(X)
    alone = np.array([model.decision_function(X[i : i + 1])[0] for i in range(20)])
    np.testing.assert_array_equal(alone, whole[:20])
    for start, stop in [(0, 1), (3, 50), (17, 200), (199, 200)]:
        np.testing.assert_array_equal(
            model.decision_function(X[start:stop]), whole[start:stop]
        )
    order = rng.permutation(len(X))
    np.testing.assert_array_equal(model.decision_function(X[order]), whole[order])
    np.testing.assert_array_equal(
        model.decision_function(X.reshape(200, block_size, n_columns)), whole
    )


@pytest.mark.parametrize("cls", [AbsMeanClassifier, DeepSetsClassifier])
def test_fit_and_scores_do_not_depend_on_the_thread_settings(cls):
    # Users get the same model and scores whatever torch's and BLAS's thread
    # settings are: fit and prediction pin one thread while they compute (seen
    # from inside the module's forward pass) and give the settings back after.
    X, y = make_geneperm(2000, n_columns=32, block_size=8, random_state=0)
    seen = []
    results = []
    previous = torch.get_num_threads()
    try:
        for n_threads in (1, 2):
            torch.set_num_threads(n_threads)
            with threadpool_limits(limits=n_threads):
                model = cls(n_columns=32, device="cpu", max_epochs=2, random_state=0)
                model.fit(X, y)
                hook = model.net_.module_.register_forward_pre_hook(
                    lambda module, args: seen.append(torch.get_num_threads())
                )
                results.append(
                    (model.predict_proba(X), model.decision_function(X[::-1]))
                )
                hook.remove()
                assert torch.get_num_threads() == n_threads
    finally:
        torch.set_num_threads(previous)
    assert seen and set(seen) == {1}
    for one, two in zip(*results, strict=True):
        np.testing.assert_array_equal(one, two)


# -- input layouts and dtypes ----------------------------------------------------


def test_reversed_and_other_views_are_accepted_like_copies():
    model, X, y = small_fit()
    for view in (X[::-1], X[::2], np.asfortranarray(X), X[:, ::-1][:, ::-1]):
        np.testing.assert_array_equal(
            model.decision_function(view), model.decision_function(view.copy())
        )
    refit = AbsMeanClassifier(n_columns=6, device="cpu", random_state=0)
    np.testing.assert_array_equal(
        refit.fit(X[::-1], y[::-1]).decision_function(X),
        refit.fit(X[::-1].copy(), y[::-1].copy()).decision_function(X),
    )


def test_read_only_input_is_used_without_error():
    model, X, y = small_fit()
    frozen = X.copy()
    frozen.flags.writeable = False
    np.testing.assert_array_equal(
        AbsMeanClassifier(n_columns=6, device="cpu", random_state=0)
        .fit(frozen, y)
        .decision_function(frozen),
        model.decision_function(X),
    )
    np.testing.assert_array_equal(frozen, X)


def test_int8_float32_and_float64_input_give_the_same_model():
    X, y = make_geneperm(400, n_columns=8, block_size=4, dtype=np.int8, random_state=1)
    scores = [
        AbsMeanClassifier(n_columns=8, device="cpu", random_state=0)
        .fit(X.astype(dtype), y)
        .decision_function(X.astype(dtype))
        for dtype in (np.int8, np.float32, np.float64)
    ]
    np.testing.assert_array_equal(scores[0], scores[1])
    np.testing.assert_allclose(scores[0], scores[2], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_prediction_input_is_named(bad):
    model, X, _ = small_fit()
    X = X.copy()
    X[5, 3] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        model.predict(X)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_non_finite_training_input_is_named(bad, dtype, order):
    # One bad value among many, in either memory order (the quick test of the
    # sum of squares reads C-contiguous arrays only).
    X, y = make_geneperm(300, n_columns=8, block_size=4, random_state=2)
    X = np.asarray(X, dtype=dtype, order=order)
    X[200, 17] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        AbsMeanClassifier(n_columns=8, device="cpu").fit(X, y)


def test_training_input_whose_squares_overflow_is_checked_value_by_value():
    # 1e30 squared overflows float32: the quick test cannot decide, and the
    # values, all finite, pass scikit-learn's check.
    X = np.full((4, 3), 1e30, dtype=np.float32)
    assert not surely_finite(X)
    check_finite_blocks(X, "AbsMeanClassifier")
    X[2, 1] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        check_finite_blocks(X, "AbsMeanClassifier")
    assert surely_finite(np.ones((4, 3), dtype=np.float32))


@pytest.mark.parametrize("as_bags", [False, True])
def test_training_input_too_large_for_float32_is_a_clear_error(as_bags):
    # Finite float32 values of 1e30 pass the input check, but the spectral
    # start's second moments overflow: a ValueError that says so, not scipy's.
    X, y = make_geneperm(300, n_columns=8, block_size=4, random_state=2)
    X = X * np.float32(1e30)
    if as_bags:
        X = list(X.reshape(300, 4, 8))
    with pytest.raises(ValueError, match="too large for float32 arithmetic"):
        AbsMeanClassifier(n_columns=8, device="cpu").fit(X, y)


def test_finite_input_too_large_for_float32_is_a_clear_error():
    model, X, _ = small_fit()
    with pytest.raises(ValueError, match="non-finite logits from finite X"):
        model.decision_function(np.full_like(X, 1e38, dtype=np.float64) * 1e5)


# -- Ctrl-C and divergence -------------------------------------------------------


def test_keyboard_interrupt_during_training_propagates(monkeypatch):
    real_iter = BlockBatchIterator.__iter__
    batches = []

    def interrupted_after_three_batches(self):
        for batch in real_iter(self):
            batches.append(1)
            if len(batches) == 3:
                raise KeyboardInterrupt
            yield batch

    monkeypatch.setattr(BlockBatchIterator, "__iter__", interrupted_after_three_batches)
    X, y = make_geneperm(2000, n_columns=6, block_size=3, random_state=0)
    model = AbsMeanClassifier(n_columns=6, device="cpu", batch_size=32, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    with pytest.raises(NotFittedError):
        model.predict(X)


def test_an_interrupted_refit_does_not_leave_the_previous_fit(monkeypatch):
    model, X, y = small_fit()

    def interrupt(self):
        raise KeyboardInterrupt
        yield

    monkeypatch.setattr(BlockBatchIterator, "__iter__", interrupt)
    with pytest.raises(KeyboardInterrupt):
        model.set_params(init="random").fit(X, y)
    assert not hasattr(model, "net_") and not hasattr(model, "classes_")


def test_ctrl_c_stops_a_long_fit_promptly(tmp_path):
    # The child says when training has started (from its first mini-batch) and
    # counts the mini-batches it starts after Ctrl-C arrives: none may be.
    script = tmp_path / "long_fit.py"
    script.write_text(
        textwrap.dedent(
            """
            import signal

            from geneperm_sk import AbsMeanClassifier, make_geneperm
            from geneperm_sk._batching import BlockBatchIterator

            batches = {"started": 0, "at_ctrl_c": None}
            real_iter = BlockBatchIterator.__iter__

            def counted(self):
                for batch in real_iter(self):
                    batches["started"] += 1
                    if batches["started"] == 1:
                        print("training", flush=True)
                    yield batch

            def note_ctrl_c(signum, frame):
                batches["at_ctrl_c"] = batches["started"]
                signal.default_int_handler(signum, frame)

            BlockBatchIterator.__iter__ = counted
            signal.signal(signal.SIGINT, note_ctrl_c)
            X, y = make_geneperm(2000, n_columns=8, block_size=4, random_state=0)
            model = AbsMeanClassifier(
                n_columns=8, device="cpu", early_stopping=False, batch_size=8,
                max_epochs=100_000, max_samples_per_epoch=None)
            try:
                model.fit(X, y)
                print("fit returned", flush=True)
            finally:
                after = batches["started"] - batches["at_ctrl_c"]
                print(f"batches after ctrl-c: {after}", flush=True)
            """
        )
    )
    # The package as imported here, installed or not.
    package_parent = str(Path(geneperm_sk.__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
    )
    first_line = process.stdout.readline().strip()
    if first_line != "training":
        process.kill()
        pytest.fail(f"the fit did not start: {process.communicate()[1][-2000:]}")
    process.send_signal(signal.SIGINT)
    try:
        # A bound on a hang, not a timing claim: the fit runs for hours unless
        # Ctrl-C stops it.
        stdout, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the fit went on after Ctrl-C")
    assert "fit returned" not in stdout
    assert "batches after ctrl-c: 0" in stdout, stdout
    assert "KeyboardInterrupt" in stderr
    assert process.returncode != 0


@pytest.mark.parametrize("lr", [1e30, 1e38])
def test_divergence_is_an_error_that_says_what_to_try(lr):
    X, y = make_geneperm(300, n_columns=6, block_size=3, random_state=0)
    model = AbsMeanClassifier(
        n_columns=6,
        device="cpu",
        init="random",
        lr=lr,
        early_stopping=False,
        random_state=0,
    )
    with pytest.raises(
        ValueError,
        match=r"training diverged in epoch \d+: .*Lower the learning rate \(lr=",
    ):
        model.fit(X, y)
    with pytest.raises(NotFittedError):
        model.predict(X)


def test_verbose_prints_one_line_per_epoch_without_row_weights(capsys):
    small_fit(max_epochs=3, early_stopping=False, verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert "row_weights" not in lines[0]
    for column in ("epoch", "train_loss", "dur"):
        assert column in lines[0]
    assert len(lines) == 2 + 3  # header, rule, one line per epoch
    assert [line.split()[0] for line in lines[2:]] == ["1", "2", "3"]


# -- the plain model file --------------------------------------------------------


@pytest.mark.parametrize("cls", BLOCK_CLASSIFIERS)
def test_saved_model_loads_and_predicts_bit_for_bit(cls, tmp_path):
    model, X, _ = small_fit(cls)
    path = tmp_path / "model.json"
    model.save(path)
    loaded = cls.load(path)
    np.testing.assert_array_equal(
        loaded.decision_function(X), model.decision_function(X)
    )
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert loaded.get_params() == model.get_params()
    assert (loaded.block_size_, loaded.n_columns_) == (
        model.block_size_,
        model.n_columns_,
    )
    assert loaded.n_features_in_ == model.n_features_in_


@pytest.mark.parametrize(
    "labels", [np.array(["ham", "spam"]), np.array([-1, 1]), np.array([False, True])]
)
def test_saved_labels_come_back_as_given(labels, tmp_path):
    X, y = make_geneperm(200, n_columns=6, block_size=2, random_state=0)
    model = AbsMeanClassifier(n_columns=6, device="cpu", random_state=0).fit(
        X, labels[y]
    )
    model.save(tmp_path / "model.json")
    loaded = AbsMeanClassifier.load(tmp_path / "model.json")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.classes_.dtype.kind == model.classes_.dtype.kind


def test_a_model_saved_for_cuda_loads_on_a_cpu_only_machine(tmp_path, monkeypatch):
    model, X, _ = small_fit()
    path = tmp_path / "model.json"
    model.save(path)
    content = json.loads(path.read_text())
    content["hyperparameters"]["device"] = "cuda"
    path.write_text(json.dumps(content))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="device='cuda'.* predicts on the CPU"):
        loaded = AbsMeanClassifier.load(path)
    assert loaded.device_ == torch.device("cpu")
    np.testing.assert_array_equal(
        loaded.decision_function(X), model.decision_function(X)
    )


def tampered(content, change):
    content = json.loads(json.dumps(content))
    change(content)
    return json.dumps(content)


def set_key(*keys_and_value):
    *keys, value = keys_and_value

    def change(content):
        target = content
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


@pytest.mark.parametrize(
    "change, match",
    [
        (set_key("format", "pickle"), "does not declare the format"),
        (set_key("format_version", 99), "format version is 99"),
        (set_key("estimator", "DeepSetsClassifier"), "holds a 'DeepSetsClassifier'"),
        (set_key("extra", 1), "expected exactly"),
        (set_key("layout", "n_columns", 0), "'layout' must hold positive"),
        (set_key("layout", "n_columns", 7), "contradicts the fitted layout"),
        (
            set_key(
                "parameters",
                "row_linear.weight",
                {"shape": [1, 5], "dtype": "float32", "values": [0.0] * 5},
            ),
            "parameters have the shapes",
        ),
        (set_key("hyperparameters", "n_columns", 5), "contradicts the fitted"),
        (set_key("classes", [1, 1]), "2 distinct sorted labels"),
        (set_key("classes", [0]), "must list the 2 class labels"),
        (set_key("class_kind", "complex"), "'class_kind' must be one of"),
        (set_key("hyperparameters", "lr", -1.0), "hyperparameters are invalid"),
        (set_key("hyperparameters", "hack", 1), "hyperparameters are invalid"),
        (
            set_key("parameters", "row_linear.weight", "dtype", "object"),
            "unsupported dtype",
        ),
        (
            set_key("parameters", "row_linear.weight", "values", [1.0]),
            "does not hold 6 values",
        ),
        (
            set_key("parameters", "row_linear.weight", "values", ["x"] * 6),
            "not numbers",
        ),
        (set_key("parameters", "row_linear.bias", "shape", [-1]), "invalid shape"),
        (set_key("parameters", "row_linear.bias", "extra", 0), "must have a shape"),
        (set_key("feature_names_in", ["a"]), "one string per feature"),
    ],
)
def test_tampered_model_files_are_refused(change, match, tmp_path):
    model, _, _ = small_fit()
    path = tmp_path / "model.json"
    model.save(path)
    path.write_text(tampered(json.loads(path.read_text()), change))
    with pytest.raises(ValueError, match=match):
        AbsMeanClassifier.load(path)


@pytest.mark.parametrize(
    "text, match",
    [
        (b"\x80\x04\x95pickle", "not JSON text"),
        (b"{not json", "not JSON text"),
        (b"[1, 2]", "does not declare the format"),
        (b'{"format": NaN}', "NaN or infinite"),
        (b"", "not JSON text"),
    ],
)
def test_files_that_are_not_model_files_are_refused(text, match, tmp_path):
    path = tmp_path / "model.json"
    path.write_bytes(text)
    with pytest.raises(ValueError, match=match):
        AbsMeanClassifier.load(path)


def test_a_truncated_model_file_is_refused(tmp_path):
    model, _, _ = small_fit()
    path = tmp_path / "model.json"
    model.save(path)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ValueError, match="not JSON text"):
        AbsMeanClassifier.load(path)


def test_a_huge_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "model.json"
    with open(path, "wb") as file:
        file.truncate(65 * 2**20)
    with pytest.raises(ValueError, match="more than a model file can have"):
        AbsMeanClassifier.load(path)


def test_save_needs_a_fitted_model_and_load_an_existing_file(tmp_path):
    with pytest.raises(NotFittedError):
        AbsMeanClassifier().save(tmp_path / "model.json")
    with pytest.raises(FileNotFoundError, match="No model file at"):
        AbsMeanClassifier.load(tmp_path / "missing.json")


def test_saving_to_a_folder_or_into_a_missing_folder_is_a_clear_error(tmp_path):
    model, _, _ = small_fit()
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        model.save(tmp_path)
    with pytest.raises(FileNotFoundError, match="the folder .*missing does not exist"):
        model.save(tmp_path / "missing" / "model.json")
    assert os.listdir(tmp_path) == []


def test_saving_over_a_file_replaces_it_whole(tmp_path):
    model, X, _ = small_fit()
    path = tmp_path / "model.json"
    path.write_text("old")
    model.save(path)
    assert AbsMeanClassifier.load(path).predict(X).shape == (len(X),)
    assert sorted(os.listdir(tmp_path)) == ["model.json"]


@pytest.mark.parametrize("as_bags", [False, True])
def test_gathering_the_validation_samples_changes_no_result(as_bags, monkeypatch):
    # Small validation parts are gathered once and read as slices of the copy;
    # larger ones a batch at a time from the data. Both read the same values
    # in passes of the same shapes: the same losses, bit for bit.
    X, y = make_geneperm(600, n_columns=6, block_size=3, random_state=0)
    if as_bags:
        X = list(X.reshape(600, 3, 6))
    settings = dict(n_columns=6, init="random", max_epochs=3, random_state=0)
    subset_class = BagSubset if as_bags else BlockSubset
    gather = subset_class.gathered
    calls = []
    monkeypatch.setattr(
        subset_class, "gathered", lambda self: calls.append(len(self)) or gather(self)
    )
    gathered = AbsMeanClassifier(**settings).fit(X, y)
    assert calls == [60]  # the validation tenth, gathered once
    monkeypatch.setattr(block_net_module, "_GATHERED_VALIDATION_BYTES", 0)
    indexed = AbsMeanClassifier(**settings).fit(X, y)
    assert calls == [60]
    assert len(gathered.net_.history) == 3
    np.testing.assert_array_equal(
        gathered.net_.history[:, "valid_loss"], indexed.net_.history[:, "valid_loss"]
    )
    np.testing.assert_array_equal(gathered.coef_, indexed.coef_)
    assert gathered.net_.train_split is None

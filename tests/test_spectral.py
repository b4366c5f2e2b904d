"""The spectral start: its second moments, streamed in chunks of the input's dtype
with float64 totals, against a direct float64 computation."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

import geneperm_sk._spectral as spectral_module
from geneperm_sk import make_geneperm
from geneperm_sk._layout import Bags
from geneperm_sk._spectral import (
    _OUTPUT_C,
    _ROWS_PER_CHUNK,
    MAX_START_ROWS,
    MAX_START_SAMPLES,
    MIN_START_SAMPLES,
    _chunks_by_class,
    _fit_output_affine,
    _moment_totals,
    _penalised_log_loss,
    _second_moments,
    _start_size,
    _start_subsample,
    input_scale,
    spectral_start,
)


def second_moments(X, y, indices):
    """The start's second moments of [x_r, 1] per class, from torch tensors."""
    return [
        _second_moments(_moment_totals(chunks, X.shape[-1], y.device))
        for chunks in _chunks_by_class(X, y, indices)
    ]


def reference_moments(X, y, indices):
    """Second moments of [x_r, 1] per class, in float64 numpy."""
    X = X[indices].astype(np.float64)
    y = y[indices]
    moments = []
    for label in (0, 1):
        rows = X[y == label].reshape(-1, X.shape[2])
        rows = np.hstack([rows, np.ones((len(rows), 1))])
        moments.append(rows.T @ rows / len(rows))
    return moments


@pytest.mark.parametrize("dtype", [np.int8, np.float32, np.float64])
def test_moments_of_geneperm_data_are_exact(dtype):
    X, y = make_geneperm(
        3000, n_columns=12, block_size=7, flatten=False, dtype=dtype, random_state=0
    )
    indices = np.sort(np.random.default_rng(0).choice(3000, 2500, replace=False))
    moments = second_moments(
        torch.from_numpy(X), torch.from_numpy(y), torch.from_numpy(indices)
    )
    # +-1 entries: every product and every float32 chunk total is an exact integer.
    for got, expected in zip(moments, reference_moments(X, y, indices), strict=True):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_moments_of_generic_float_data_are_accurate(dtype):
    rng = np.random.default_rng(1)
    n_samples, block_size, n_columns = 5000, 8, 10
    X = (rng.standard_normal((n_samples, block_size, n_columns)) * 3 + 1).astype(dtype)
    y = rng.integers(0, 2, n_samples)
    indices = np.arange(n_samples)
    moments = second_moments(
        torch.from_numpy(X), torch.from_numpy(y), torch.from_numpy(indices)
    )
    # Within a chunk, float32 sums of at most _ROWS_PER_CHUNK products of
    # magnitude ~|x|^2 carry a relative error of at most about
    # eps * sqrt(rows) for random rounding (and eps * rows in the worst case);
    # the totals across chunks add in float64.
    eps = np.finfo(dtype).eps
    rows_per_chunk = min(_ROWS_PER_CHUNK, n_samples * block_size)
    for got, expected in zip(moments, reference_moments(X, y, indices), strict=True):
        scale = np.sqrt(np.outer(np.diag(expected), np.diag(expected)))
        error = np.abs(got - expected) / scale
        assert error.max() <= 10 * eps * np.sqrt(rows_per_chunk)


def test_start_is_parallel_to_ones_on_geneperm_data_in_every_dtype():
    for dtype in (np.int8, np.float32, np.float64):
        X, y = make_geneperm(
            2000, n_columns=16, block_size=4, flatten=False, dtype=dtype, random_state=2
        )
        start, _ = spectral_start(torch.from_numpy(X), torch.from_numpy(y))
        weights = start["row_weights"]
        cosine = abs(weights.sum()) / (np.linalg.norm(weights) * np.sqrt(16))
        assert cosine > 0.999


def test_the_start_keeps_a_rare_class_above_the_subsample_size():
    # 20,000 blocks, 2 positive ones at positions that an even spread over all
    # blocks skips: without stratification the start saw no positive block.
    n_samples = MAX_START_SAMPLES + 3_616
    spread = torch.linspace(0, n_samples - 1, MAX_START_SAMPLES).round().long()
    skipped = np.setdiff1d(np.arange(n_samples), spread.numpy())
    rng = np.random.default_rng(0)
    X = torch.as_tensor(rng.standard_normal((n_samples, 1, 3)), dtype=torch.float32)
    y = torch.zeros(n_samples)
    rare = skipped[[100, 3_000]]
    y[rare] = 1
    X[rare] *= 3
    kept = _start_subsample(y, torch.arange(n_samples))
    assert len(kept) == MAX_START_SAMPLES
    assert torch.all(kept[1:] > kept[:-1])
    assert set(rare) <= set(kept.tolist())
    parameters, _ = spectral_start(X, y)
    assert np.isfinite(parameters["row_weights"]).all()


@pytest.mark.parametrize("rare_label", [0, 1])
def test_the_start_keeps_either_class_when_it_is_rare(rare_label):
    # 100,000 blocks, 3 of one class: the other class's share filled the whole
    # subsample when the rare class was the negative one.
    n_samples = 100_000
    y = torch.full((n_samples,), float(1 - rare_label))
    y[[5, 50_000, 99_999]] = rare_label
    kept = _start_subsample(y, torch.arange(n_samples))
    assert len(kept) == MAX_START_SAMPLES
    assert set(y[kept].tolist()) == {0.0, 1.0}


@pytest.mark.parametrize("positive_fraction", [0.5, 0.1, 0.01])
def test_the_start_subsample_keeps_each_class_share(positive_fraction):
    n_samples = 3 * MAX_START_SAMPLES
    y = torch.as_tensor(
        np.random.default_rng(1).random(n_samples) < positive_fraction,
        dtype=torch.float32,
    )
    kept = _start_subsample(y, torch.arange(n_samples))
    assert len(kept) == MAX_START_SAMPLES
    share = float(y[kept].mean())
    # Rounding to whole blocks moves a share by at most one block.
    assert abs(share - float(y.mean())) <= 1 / MAX_START_SAMPLES


@pytest.mark.parametrize(
    "n_samples, separation", [(5, 0.8), (40, 0.3), (2048, 0.8), (2048, 2.0), (300, 0.0)]
)
def test_output_affine_minimises_the_logistic_regression_objective(
    n_samples, separation
):
    # 2.0 separates the classes (the curvature vanishes), 0.0 leaves no signal.
    rng = np.random.default_rng(n_samples)
    labels = (rng.random(n_samples) < 0.5).astype(np.float64)
    labels[:2] = [0.0, 1.0]
    scores = rng.random(n_samples) + separation * labels
    weight, bias = _fit_output_affine(scores, labels)
    reference = LogisticRegression(C=_OUTPUT_C, tol=1e-12, max_iter=10_000)
    reference.fit(scores[:, None], labels)
    objective = _penalised_log_loss(scores, labels, weight, bias)
    reference_objective = _penalised_log_loss(
        scores, labels, reference.coef_[0, 0], reference.intercept_[0]
    )
    # Both solve the same strictly convex problem: the same minimum, up to the
    # rounding of sums of n_samples float64 terms.
    tolerance = 1e-12 * n_samples * max(reference_objective, 1.0)
    assert objective <= reference_objective + tolerance
    np.testing.assert_allclose(
        [weight, bias], [reference.coef_[0, 0], reference.intercept_[0]], rtol=1e-5
    )


@pytest.mark.parametrize("block_size", [1, 2, 16, 64, 1024])
def test_the_start_reads_a_bounded_number_of_rows(block_size):
    blocks = torch.zeros(3, block_size, 2)
    n_kept = _start_size(blocks)
    assert MIN_START_SAMPLES <= n_kept <= MAX_START_SAMPLES
    assert n_kept * block_size <= MAX_START_ROWS or n_kept == MIN_START_SAMPLES
    # Bags are counted by their mean size.
    rows = torch.zeros(3 * block_size, 2)
    offsets = torch.arange(0, 3 * block_size + 1, block_size)
    assert _start_size(Bags(rows, offsets)) == n_kept


def test_the_start_of_large_blocks_reads_a_row_capped_subsample():
    n_samples, block_size = 4_000, 64
    y = torch.as_tensor(np.arange(n_samples) % 2, dtype=torch.float32)
    kept = _start_subsample(
        y, torch.arange(n_samples), _start_size(torch.zeros(1, block_size, 1))
    )
    assert len(kept) == max(MIN_START_SAMPLES, MAX_START_ROWS // block_size)
    assert float(y[kept].mean()) == 0.5


@pytest.mark.parametrize("spread", [1e-3, 0.7, 5.0, 3e4])
def test_start_gives_the_input_scale_of_the_entries_it_read(spread):
    # The start reads the entries input_scale reads (the same subsample of all
    # samples), so both name the same power of two: the one nearest their root
    # mean square. The positive samples (a fifth) are 8 times larger, so that
    # the scale of either class alone would be another power of two: at these
    # spreads the root mean square is at least 0.12 (in log2) from where the
    # rounding turns.
    rng = np.random.default_rng(3)
    y = (rng.random(3000) < 0.2).astype(np.float32)
    X = rng.standard_normal((3000, 5, 7)) * spread
    X[y == 1] *= 8
    X, y = torch.from_numpy(X.astype(np.float32)), torch.from_numpy(y)
    _, scale = spectral_start(X, y)
    assert scale == input_scale(X, y)
    root_mean_square = float(np.sqrt(np.mean(X.numpy().astype(np.float64) ** 2)))
    assert abs(np.log2(scale) - np.log2(root_mean_square)) < 0.5
    for label in (0, 1):
        rows = X.numpy()[y.numpy() == label].astype(np.float64)
        assert abs(np.log2(scale) - np.log2(np.sqrt(np.mean(rows**2)))) > 0.5


@pytest.mark.parametrize("kind", ["blocks", "bags"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8])
def test_a_start_too_large_to_keep_is_streamed_to_the_same_result(
    kind, dtype, monkeypatch
):
    # Both readings of the start's rows, kept in memory or gathered again a
    # chunk at a time, multiply the same chunks: the results are identical.
    X, y = make_geneperm(
        1500, n_columns=10, block_size=6, flatten=False, dtype=dtype, random_state=4
    )
    X, y = torch.from_numpy(X), torch.from_numpy(y.astype(np.float32))
    if kind == "bags":
        X = Bags(X.reshape(-1, 10), torch.arange(0, 1500 * 6 + 1, 6))
    kept = spectral_start(X, y)
    reads = []
    real_chunks_of = spectral_module._chunks_of

    def counted_chunks_of(*args, **kwargs):
        reads.append(kwargs.get("reuse_memory", True))
        return real_chunks_of(*args, **kwargs)

    monkeypatch.setattr(spectral_module, "_chunks_of", counted_chunks_of)
    monkeypatch.setattr(spectral_module, "_KEPT_BYTES", 0)
    streamed = spectral_start(X, y)
    assert reads == [True] * 4  # each class, for the moments and the scores
    assert streamed[1] == kept[1]
    for name, value in kept[0].items():
        np.testing.assert_array_equal(streamed[0][name], value, err_msg=name)


def test_the_start_keeps_its_rows_only_when_both_classes_fit_the_budget(
    monkeypatch,
):
    # The budget counts both classes, in the bytes of the compute dtype
    # (float64 data stay float64).
    X, y = make_geneperm(
        400, n_columns=6, block_size=3, flatten=False, dtype=np.float64, random_state=5
    )
    X, y = torch.from_numpy(X), torch.from_numpy(y.astype(np.float32))
    indices = torch.arange(400)
    both_classes = 400 * 3 * 6 * 8
    for budget, kept in [(both_classes, True), (both_classes - 1, False)]:
        monkeypatch.setattr(spectral_module, "_KEPT_BYTES", budget)
        chunks = spectral_module._chunks_by_class(X, y, indices)
        assert [part._kept is not None for part in chunks] == [kept, kept]

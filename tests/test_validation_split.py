import numpy as np
import pytest

from geneperm_sk import AbsMeanClassifier, DeepSetsClassifier
from geneperm_sk._block_net import MAX_VALIDATION_SAMPLES


@pytest.mark.parametrize("cls", [AbsMeanClassifier, DeepSetsClassifier])
@pytest.mark.parametrize(
    "n_samples, expected",
    [
        (1000, 100),
        (10 * MAX_VALIDATION_SAMPLES, MAX_VALIDATION_SAMPLES),
        (40 * MAX_VALIDATION_SAMPLES, MAX_VALIDATION_SAMPLES),
    ],
)
def test_the_validation_part_is_a_fraction_of_the_samples_up_to_a_cap(
    cls, n_samples, expected
):
    y = np.random.default_rng(0).integers(2, size=n_samples)
    train, valid = cls(validation_fraction=0.1)._validation_split(y, seed=0)
    assert len(valid) == expected
    assert len(train) == n_samples - expected
    assert np.array_equal(np.sort(np.concatenate([train, valid])), np.arange(n_samples))
    # Stratified: the class fractions agree to within one sample of each part.
    assert abs(y[valid].mean() - y.mean()) <= 1 / len(valid)
    assert abs(y[train].mean() - y.mean()) <= 1 / len(train)


def test_a_larger_fraction_reaches_the_cap_sooner():
    y = np.tile([0, 1], 2 * MAX_VALIDATION_SAMPLES)
    train, valid = AbsMeanClassifier(validation_fraction=0.5)._validation_split(
        y, seed=0
    )
    assert len(valid) == MAX_VALIDATION_SAMPLES
    assert len(train) == 3 * MAX_VALIDATION_SAMPLES

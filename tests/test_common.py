"""scikit-learn's estimator checks, which skorch's own nets do not pass.

Each block classifier is checked in two readings that take any 2-D data:
``block_size=1`` reads each sample as one row, ``n_columns=1`` as a block of
one-feature rows. The default instances need one of the two to read 2-D data (see
``test_inconsistent_layout_is_an_error``), so they are not generic estimators.
Every instance is checked with several seeds, since a check that passes by luck of
the initial parameters on one seed is a bug waiting for another. No check is
expected to fail.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from geneperm_sk import AbsMeanClassifier, AttentionMILClassifier, DeepSetsClassifier

# The set models train for longer (they start from random parameters), so they
# get two seeds each to keep this file within a few minutes.
SEEDS = {
    AbsMeanClassifier: (0, 1, 2),
    DeepSetsClassifier: (0, 1),
    AttentionMILClassifier: (0, 1),
}
CLASSIFIERS = tuple(SEEDS)


def instances():
    for cls in CLASSIFIERS:
        for layout in ({"block_size": 1}, {"n_columns": 1}):
            for seed in SEEDS[cls]:
                yield cls(**layout, device="cpu", random_state=seed)


@parametrize_with_checks(list(instances()))
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)

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

# The checks test scikit-learn's API, not accuracy: every model is checked with
# small, fast settings (narrow layers, few epochs), which still learn the checks'
# easy problems, on three seeds each. Defaults and accuracy are tested in
# tests/test_absmean.py and tests/test_set_models.py.
SMALL_NET = dict(max_epochs=10, lr=0.03, n_iter_no_change=3, row_hidden_sizes=(8,))
FAST = {
    AbsMeanClassifier: dict(max_epochs=5),
    DeepSetsClassifier: dict(**SMALL_NET, head_hidden_sizes=(8,)),
    AttentionMILClassifier: dict(**SMALL_NET, attention_size=4),
}
SEEDS = (0, 1, 2)
CLASSIFIERS = tuple(FAST)


def instances():
    for cls in CLASSIFIERS:
        for layout in ({"block_size": 1}, {"n_columns": 1}):
            for seed in SEEDS:
                yield cls(**layout, **FAST[cls], device="cpu", random_state=seed)


@parametrize_with_checks(list(instances()))
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)

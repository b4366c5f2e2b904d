"""scikit-learn's estimator checks, which skorch's own nets do not pass.

Both instances below take any 2-D data: ``block_size=1`` reads each sample as one
row, ``n_columns=1`` as a block of one-feature rows. The default instance needs
one of the two to read 2-D data (see ``test_inconsistent_layout_is_an_error``), so
it is not a generic estimator. No check is expected to fail.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from geneperm_sk import AbsMeanClassifier


@parametrize_with_checks(
    [
        AbsMeanClassifier(block_size=1, device="cpu"),
        AbsMeanClassifier(n_columns=1, device="cpu"),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)

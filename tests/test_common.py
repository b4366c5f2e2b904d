"""scikit-learn's estimator checks, which skorch's own nets do not pass."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from geneperm_sk import AbsMeanClassifier


@parametrize_with_checks([AbsMeanClassifier(block_size=1, device="cpu")])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)

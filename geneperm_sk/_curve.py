"""Cross-validated accuracy of several estimators over a range of generator settings."""

import inspect
import time
from numbers import Integral

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.parallel import Parallel, delayed

from ._absmean import AbsMeanClassifier
from ._generator import bayes_accuracy, make_geneperm

__all__ = ["geneperm_curve"]

GENERATOR_SETTINGS = (
    "block_size",
    "n_columns",
    "n_table_rows",
    "n_samples",
    "positive_fraction",
)
_POSITIVE_FRACTION_DEFAULT = (
    inspect.signature(make_geneperm).parameters["positive_fraction"].default
)


def _named_estimators(estimators):
    """Check ``estimators`` and return a list of (name, estimator) pairs."""
    pairs = list(estimators.items()) if isinstance(estimators, dict) else estimators
    try:
        pairs = [(name, estimator) for name, estimator in pairs]
    except (TypeError, ValueError):
        raise ValueError(
            "The 'estimators' parameter of geneperm_curve must be a dict of name -> "
            "estimator or a list of (name, estimator) pairs. Got "
            f"{estimators!r} instead."
        ) from None
    names = [name for name, _ in pairs]
    if not pairs or len(set(names)) != len(names):
        raise ValueError(
            "The 'estimators' parameter of geneperm_curve must hold at least one "
            f"estimator, under distinct names. Got the names {names}."
        )
    for name, estimator in pairs:
        if not is_classifier(estimator):
            raise ValueError(
                "The 'estimators' parameter of geneperm_curve must hold scikit-learn "
                f"classifiers. Got {estimator!r} under the name {name!r}."
            )
    return pairs


def with_row_layout(estimator, n_columns):
    """A clone of ``estimator`` whose AbsMean models read rows of ``n_columns``.

    Every :class:`AbsMeanClassifier` in ``estimator`` (the estimator itself, or a
    step of a pipeline, or any other nested parameter) gets ``n_columns`` and infers
    the block size from the width of the data. Other estimators are only cloned.
    """
    estimator = clone(estimator)
    layout = {"n_columns": n_columns, "block_size": None}
    if isinstance(estimator, AbsMeanClassifier):
        estimator.set_params(**layout)
    nested = {
        f"{name}__{key}": value
        for name, parameter in estimator.get_params(deep=True).items()
        if isinstance(parameter, AbsMeanClassifier)
        for key, value in layout.items()
    }
    return estimator.set_params(**nested)


def _fit_and_score(estimator, X, y, train, test, scoring):
    start = time.perf_counter()
    estimator.fit(X[train], y[train])
    fit_time = time.perf_counter() - start
    score = check_scoring(estimator, scoring=scoring)(estimator, X[test], y[test])
    return float(score), fit_time


def _iter_records(
    estimators,
    param_name,
    param_range,
    *,
    n_samples,
    cv,
    scoring,
    n_jobs,
    random_state,
    generator_params,
):
    """Yield one record per (value, estimator), in order, as the folds complete."""
    estimators = _named_estimators(estimators)
    unknown = set(generator_params) - set(GENERATOR_SETTINGS) - {"n_samples"}
    if unknown:
        raise TypeError(
            "geneperm_curve passes only make_geneperm's settings "
            f"{GENERATOR_SETTINGS} on to it; got the unexpected {sorted(unknown)}."
        )
    if param_name in generator_params:
        raise ValueError(
            f"geneperm_curve varies {param_name!r} over param_range; do not also "
            f"pass {param_name}={generator_params[param_name]!r}."
        )
    rng = check_random_state(random_state)
    # Seeds are drawn up front so that the data do not depend on the parallel backend.
    data_seeds = rng.randint(2**31, size=len(param_range))
    datasets, tasks = [], []
    for value, seed in zip(param_range, data_seeds, strict=True):
        settings = {"n_samples": n_samples, **generator_params, param_name: value}
        blocks, y = make_geneperm(**settings, flatten=False, random_state=seed)
        _, block_size, n_columns = blocks.shape
        X = blocks.reshape(len(blocks), block_size * n_columns)
        splits = list(check_cv(cv, y, classifier=True).split(X, y))
        positive_fraction = settings.get(
            "positive_fraction", _POSITIVE_FRACTION_DEFAULT
        )
        extra_fields = {
            "bayes_accuracy": bayes_accuracy(block_size, positive_fraction),
            "chance_accuracy": max(positive_fraction, 1 - positive_fraction),
        }
        datasets.append((value, extra_fields, len(splits)))
        for _, estimator in estimators:
            for train, test in splits:
                tasks.append(
                    delayed(_fit_and_score)(
                        with_row_layout(estimator, n_columns),
                        X,
                        y,
                        train,
                        test,
                        scoring,
                    )
                )

    fold_results = iter(Parallel(n_jobs=n_jobs, return_as="generator")(tasks))
    for value, extra_fields, n_folds in datasets:
        for name, _ in estimators:
            scores, fit_times = zip(
                *(next(fold_results) for _ in range(n_folds)), strict=True
            )
            yield {
                "estimator": name,
                param_name: value,
                "test_scores": list(scores),
                "mean_test_score": float(np.mean(scores)),
                "std_test_score": float(np.std(scores)),
                "mean_fit_time": float(np.mean(fit_times)),
                **extra_fields,
            }


@validate_params(
    {
        "estimators": [dict, list],
        "param_name": [StrOptions(set(GENERATOR_SETTINGS))],
        "param_range": ["array-like"],
        "n_samples": [Interval(Integral, 2, None, closed="left")],
        "cv": ["cv_object"],
        "scoring": [str, callable],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=False,
)
def geneperm_curve(
    estimators,
    param_name="block_size",
    param_range=(1, 2, 4, 8, 16),
    *,
    n_samples=2000,
    cv=5,
    scoring="accuracy",
    n_jobs=None,
    random_state=None,
    verbose=0,
    **generator_params,
):
    """Cross-validated scores of estimators on Gene-Perm data, per generator setting.

    For each value in ``param_range`` a data set is drawn with
    :func:`make_geneperm` (with ``param_name`` set to that value) and every
    estimator is cross-validated on it, like :func:`sklearn.model_selection.
    validation_curve` but over the data rather than a hyperparameter. Estimators
    are cloned; every :class:`AbsMeanClassifier` among them (also inside a
    pipeline) is told the number of columns of each data set, so that it reads the
    rows right whatever the block size.

    Parameters
    ----------
    estimators : dict or list of (str, estimator) tuples
        The classifiers to compare, by name.

    param_name : {"block_size", "n_columns", "n_table_rows", "n_samples", \
            "positive_fraction"}, default="block_size"
        The :func:`make_geneperm` setting to vary.

    param_range : array-like, default=(1, 2, 4, 8, 16)
        The values of ``param_name``.

    n_samples : int, default=2000
        The number of samples of each data set (unless ``param_name`` is
        "n_samples").

    cv : int, cross-validation generator or iterable, default=5
        Determines the cross-validation splitting strategy, as in
        :func:`sklearn.model_selection.cross_val_score`; an int is the number of
        folds of a :class:`~sklearn.model_selection.StratifiedKFold`.

    scoring : str or callable, default="accuracy"
        The score, as in :func:`sklearn.model_selection.cross_val_score`. The
        records' ``bayes_accuracy`` and ``chance_accuracy`` refer to accuracy.

    n_jobs : int, default=None
        The number of fits to run in parallel, through joblib: ``None`` means 1
        unless in a :func:`joblib.parallel_config` context, and ``-1`` all
        processors. Inside ``joblib.parallel_config(backend="dask")`` the fits run
        on a Dask cluster.

    random_state : int, RandomState instance or None, default=None
        Determines the data sets. Pass an int for reproducible output (together
        with estimators that have a fixed ``random_state`` of their own).

    verbose : int, default=0
        0 is silent; 1 prints a line for each value and estimator when its folds
        are done.

    **generator_params
        Further :func:`make_geneperm` settings held fixed, such as
        ``n_columns=20`` or ``n_table_rows=1000``.

    Returns
    -------
    records : list of dict
        One record per value and estimator, ready for ``pandas.DataFrame``:
        ``estimator`` (the name), ``param_name`` (the value), ``test_scores`` (the
        fold scores), ``mean_test_score``, ``std_test_score``, ``mean_fit_time``
        (seconds), ``bayes_accuracy`` and ``chance_accuracy``.

    See Also
    --------
    GenePermCurveDisplay : Plot these records.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from geneperm_sk import AbsMeanClassifier, geneperm_curve
    >>> records = geneperm_curve(
    ...     {"AbsMean": AbsMeanClassifier(random_state=0),
    ...      "LogisticRegression": LogisticRegression()},
    ...     param_range=[2, 4], n_samples=400, cv=3, n_columns=10, random_state=0)
    >>> [(r["estimator"], r["block_size"]) for r in records[:3]]
    [('AbsMean', 2), ('LogisticRegression', 2), ('AbsMean', 4)]
    >>> records[0]["bayes_accuracy"]
    0.875
    """
    records = []
    for record in _iter_records(
        estimators,
        param_name,
        param_range,
        n_samples=n_samples,
        cv=cv,
        scoring=scoring,
        n_jobs=n_jobs,
        random_state=random_state,
        generator_params=generator_params,
    ):
        if verbose:
            print(
                f"[geneperm_curve] {param_name}={record[param_name]} "
                f"{record['estimator']}: {record['mean_test_score']:.3f} "
                f"+- {record['std_test_score']:.3f} "
                f"(fit {record['mean_fit_time']:.2f} s, "
                f"Bayes {record['bayes_accuracy']:.3f})",
                flush=True,
            )
        records.append(record)
    return records

"""Scores of several estimators against one Gene-Perm setting: the one-setting study.

Entry points for the command line: :func:`plan_curve` and :func:`curve_records`.
"""

from numbers import Integral

from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)

from ._study import (
    GENERATOR_SETTINGS,
    STUDY_CONSTRAINTS,
    check_n_jobs,
    plan_study,
    run_plan,
)

__all__ = ["geneperm_curve"]


def plan_curve(
    estimators,
    param_name,
    param_range,
    *,
    n_samples,
    n_repeats,
    cv,
    test_size,
    scoring,
    error_score,
    random_state,
    generator_params,
    results_file=None,
):
    """The :class:`~geneperm_sk._study.StudyPlan` behind a curve: ``param_name``
    over ``param_range``, with the arguments of :func:`geneperm_curve` (the fixed
    generator settings as one dict). Raises before any data are drawn."""
    if param_name in generator_params:
        raise ValueError(
            f"geneperm_curve varies {param_name!r} over param_range; do not also "
            f"pass {param_name}={generator_params[param_name]!r}."
        )
    fixed = dict(generator_params)
    if param_name != "n_samples":
        fixed.setdefault("n_samples", n_samples)
    return plan_study(
        estimators,
        {param_name: param_range},
        n_repeats=n_repeats,
        cv=cv,
        test_size=test_size,
        scoring=scoring,
        error_score=error_score,
        random_state=random_state,
        generator_params=fixed,
        caller="geneperm_curve",
        grid_name="param_range",
        results_file=results_file,
    )


def curve_records(records, param_name):
    """Study records with ``param_name`` as their only setting, as
    :func:`geneperm_curve` returns them."""
    return [
        {
            key: value
            for key, value in record.items()
            if key == param_name or key not in GENERATOR_SETTINGS
        }
        for record in records
    ]


# Checked at the top of geneperm_curve rather than by @validate_params, which would
# rename the parameter errors raised by the estimators' own fits.
_CURVE_CONSTRAINTS = {
    **STUDY_CONSTRAINTS,
    "param_name": [StrOptions(set(GENERATOR_SETTINGS))],
    "param_range": ["array-like"],
    "n_samples": [Interval(Integral, 1, None, closed="left")],
}


def geneperm_curve(
    estimators,
    param_name="block_size",
    param_range=(1, 2, 4, 8, 16),
    *,
    n_samples=2000,
    n_repeats=1,
    cv=5,
    test_size=10_000,
    scoring="accuracy",
    error_score="raise",
    n_jobs=None,
    random_state=None,
    results_file=None,
    verbose=0,
    **generator_params,
):
    """Scores of estimators on Gene-Perm data, per value of one generator setting.

    For each value in ``param_range`` a data set is drawn with
    :func:`make_geneperm` (with ``param_name`` set to that value), ``n_repeats``
    times, and every estimator is cross-validated on it, like
    :func:`sklearn.model_selection.validation_curve` but over the data rather than
    a hyperparameter. This is :func:`geneperm_study` with a grid over one setting,
    and it runs on the same engine: tasks that draw their own data, seeds that
    depend only on ``random_state`` and the setting, and an optional results file
    to resume from.

    Read more in the :ref:`User Guide <curve>`.

    Parameters
    ----------
    estimators : dict or list of (str, estimator) tuples
        The classifiers to compare, by name. Every estimator that reads blocks of
        rows (one with both ``block_size`` and ``n_columns`` parameters, such as
        :class:`AbsMeanClassifier`, also inside a pipeline) is told the number of
        columns of each data set.

    param_name : {"block_size", "n_columns", "n_table_rows", "n_samples", \
            "positive_fraction"}, default="block_size"
        The :func:`make_geneperm` setting to vary.

    param_range : array-like, default=(1, 2, 4, 8, 16)
        The values of ``param_name``, distinct.

    n_samples : int, default=2000
        The number of samples of each data set (unless ``param_name`` is
        "n_samples").

    n_repeats : int, default=1
        The number of independent data sets (each with its own table) per value.

    cv : int, cross-validation splitter or None, default=5
        An int is the number of folds of a
        :class:`~sklearn.model_selection.StratifiedKFold`; a splitter gives its
        splits; None fits on all ``n_samples`` and scores on ``test_size`` fresh
        samples from the same table.

    test_size : int, default=10_000
        The number of fresh test samples when ``cv`` is None.

    scoring : str or callable, default="accuracy"
        The score, as in :func:`sklearn.model_selection.cross_val_score`. The
        records' ``bayes_accuracy`` and ``chance_accuracy`` refer to accuracy.

    error_score : "raise" or float, default="raise"
        What a failing fit or score gives, as in :func:`geneperm_study`: "raise"
        stops with the error, a number is recorded as the fold's score with the
        traceback in the record's ``error``.

    n_jobs : int, default=None
        The number of tasks (one estimator on one data set) to run in parallel,
        through joblib: ``None`` means 1 unless in a :func:`joblib.parallel_config`
        context, and ``-1`` all processors. Inside
        ``joblib.parallel_config(backend="dask")`` the tasks run on a Dask cluster.

    random_state : int, RandomState instance or None, default=None
        Determines the data sets, as in :func:`geneperm_study`. Pass an int for
        reproducible output (together with estimators that have a fixed
        ``random_state`` of their own); an int is required with ``results_file``.

    results_file : str or path-like, default=None
        A CSV file to append each record to as it is finished, and to resume from,
        as in :func:`geneperm_study`; its rows hold all five settings.

    verbose : int, default=0
        0 is silent; 1 shows a progress bar over tasks on stderr; 2 also prints a
        line per record.

    **generator_params
        Further :func:`make_geneperm` settings held fixed, such as
        ``n_columns=20`` or ``n_table_rows=1000``.

    Returns
    -------
    records : list of dict
        One record per value, repeat and estimator, in that order of nesting,
        ready for ``pandas.DataFrame``: ``estimator`` (the name), ``param_name``
        (the value), ``repeat``, ``mean_test_score``, ``std_test_score``,
        ``mean_fit_time`` (seconds), ``bayes_accuracy``, ``chance_accuracy``,
        ``test_scores`` (the fold scores) and ``error`` (None unless a fit failed).

    See Also
    --------
    geneperm_study : Grids over several settings.
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
    validate_parameter_constraints(
        _CURVE_CONSTRAINTS,
        {
            "estimators": estimators,
            "param_name": param_name,
            "param_range": param_range,
            "n_samples": n_samples,
            "n_repeats": n_repeats,
            "cv": cv,
            "test_size": test_size,
            "scoring": scoring,
            "error_score": error_score,
            "n_jobs": n_jobs,
            "random_state": random_state,
            "results_file": results_file,
            "verbose": verbose,
        },
        caller_name="geneperm_curve",
    )
    check_n_jobs(n_jobs, "geneperm_curve")
    plan = plan_curve(
        estimators,
        param_name,
        param_range,
        n_samples=n_samples,
        n_repeats=n_repeats,
        cv=cv,
        test_size=test_size,
        scoring=scoring,
        error_score=error_score,
        random_state=random_state,
        results_file=results_file,
        generator_params=generator_params,
    )
    records = run_plan(plan, results_file=results_file, n_jobs=n_jobs, verbose=verbose)
    return curve_records(records, param_name)

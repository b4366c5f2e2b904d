"""The multiple-instance benchmark: named data sets, stratified folds repeated,
on the study engine, with the published rows to read the scores against.

:class:`MILDatasetRecipe` is the recipe of a task (see :mod:`._study`): a data
set's name and the seed of its folds. It loads the data set where the task runs
and yields the bags of each stratified fold. :func:`plan_mil_benchmark` checks a
benchmark's arguments and returns its :class:`~._study.StudyPlan`;
:func:`mil_benchmark` runs it; :func:`mil_benchmark_table` sums the records up
beside the published rows.
"""

import math
from dataclasses import dataclass
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils._param_validation import (
    Interval,
    validate_parameter_constraints,
)

from ._absmean import AbsMeanClassifier
from ._datasets import _DATASETS, load_mil_dataset
from ._features import BagPooling, BagRowTransformer, RowSecondMoments
from ._geneperm_recipe import _study_entropy, spawn_seeds
from ._set_models import AttentionMILClassifier, DeepSetsClassifier
from ._study import (
    STUDY_CONSTRAINTS,
    StudyPlan,
    _check_scoring,
    _named_estimators,
    check_n_jobs,
    run_plan,
)

__all__ = [
    "MIL_BENCHMARK_ESTIMATORS",
    "mil_benchmark",
    "mil_benchmark_estimators",
    "mil_benchmark_table",
]

DEFAULT_DATASETS = ("musk1", "musk2", "elephant")


# The estimators ----------------------------------------------------------------


def _attention(seed):
    # The rows are standardised on the training bags; then the gated attention
    # model of Ilse et al. (2018): one layer of 64 for the rows, attention of
    # size 64, a linear head. Fixed settings, no early stopping (a tenth of 90
    # bags is no validation set) and every bag in every epoch.
    return make_pipeline(
        BagRowTransformer(StandardScaler()),
        AttentionMILClassifier(
            row_hidden_sizes=(64,),
            attention_size=64,
            head_hidden_sizes=(),
            lr=1e-3,
            max_epochs=50,
            batch_size=8,
            max_samples_per_epoch=None,
            early_stopping=False,
            random_state=seed,
        ),
    )


def _deepsets(seed):
    return make_pipeline(
        BagRowTransformer(StandardScaler()),
        DeepSetsClassifier(
            lr=1e-3,
            max_epochs=50,
            batch_size=8,
            max_samples_per_epoch=None,
            early_stopping=False,
            random_state=seed,
        ),
    )


def _absmean(seed):
    return make_pipeline(
        BagRowTransformer(StandardScaler()), AbsMeanClassifier(random_state=seed)
    )


def _pooled(seed):
    return make_pipeline(
        BagPooling(statistics=("mean", "max", "min")), StandardScaler(), SVC(C=10)
    )


def _rowmoments(seed):
    return make_pipeline(
        BagRowTransformer(StandardScaler()),
        RowSecondMoments(),
        LogisticRegression(max_iter=1000),
    )


#: Key -> (the name records carry, the factory of the pipeline from a seed).
MIL_BENCHMARK_ESTIMATORS = {
    "attention": ("AttentionMIL", _attention),
    "pooled": ("Pooled+SVC", _pooled),
    "deepsets": ("DeepSets", _deepsets),
    "absmean": ("AbsMean", _absmean),
    "rowmoments": ("RowMoments+LogisticRegression", _rowmoments),
}


def mil_benchmark_estimators(names=None, *, random_state=0):
    """The pipelines of the multiple-instance benchmark, by name.

    Each has fixed hyperparameters (nothing is tuned on the test folds):

    - ``"attention"``: rows standardised (:class:`BagRowTransformer` of a
      :class:`~sklearn.preprocessing.StandardScaler`), then
      :class:`AttentionMILClassifier` with one row layer of 64, gated attention
      of size 64, a linear head, Adam at ``lr=1e-3``, bags in batches of 8, 50
      epochs of every bag, no early stopping;
    - ``"pooled"``: :class:`BagPooling` (mean, max and min of every column),
      standardised, an RBF ``SVC`` with ``C=10``;
    - ``"deepsets"``: rows standardised, :class:`DeepSetsClassifier` with the
      attention model's training settings;
    - ``"absmean"``: rows standardised, :class:`AbsMeanClassifier`;
    - ``"rowmoments"``: rows standardised, :class:`RowSecondMoments`,
      :class:`~sklearn.linear_model.LogisticRegression`.

    Read more in the :ref:`User Guide <mil_benchmark>`.

    Parameters
    ----------
    names : list of str, default=None
        Keys among ``"attention"``, ``"pooled"``, ``"deepsets"``, ``"absmean"``
        and ``"rowmoments"``; None for all, in that order.

    random_state : int, default=0
        The ``random_state`` of the neural networks.

    Returns
    -------
    estimators : dict of str -> estimator
        Unfitted pipelines under the names the records carry (such as
        ``"AttentionMIL"``), ready for :func:`mil_benchmark`.

    Examples
    --------
    >>> from geneperm_sk import mil_benchmark_estimators
    >>> list(mil_benchmark_estimators(["pooled", "attention"]))
    ['Pooled+SVC', 'AttentionMIL']
    """
    keys = list(MIL_BENCHMARK_ESTIMATORS) if names is None else list(names)
    unknown = [key for key in keys if key not in MIL_BENCHMARK_ESTIMATORS]
    if unknown or not keys or isinstance(names, str):
        raise ValueError(
            "The 'names' parameter of mil_benchmark_estimators must be a non-empty "
            f"list of keys among {list(MIL_BENCHMARK_ESTIMATORS)}. Got {names!r}."
        )
    return {
        MIL_BENCHMARK_ESTIMATORS[key][0]: MIL_BENCHMARK_ESTIMATORS[key][1](random_state)
        for key in dict.fromkeys(keys)
    }


# The recipe ----------------------------------------------------------------------


@dataclass(frozen=True)
class MILDatasetRecipe:
    """The data of a task: a named data set's stratified folds, loaded where the
    task runs (see :func:`~geneperm_sk.load_mil_dataset`).

    Attributes
    ----------
    dataset : str
        The data set's name.
    cv_seed : int
        The seed of the shuffled :class:`~sklearn.model_selection.StratifiedKFold`.
    n_splits : int
        The number of folds.
    """

    FIELD_TYPES = {"dataset": str}
    REFERENCE_FIELDS = ("chance_accuracy",)

    dataset: str
    cv_seed: int
    n_splits: int

    @property
    def fields(self):
        return {"dataset": self.dataset}

    def prepare(self, estimator):
        return clone(estimator)

    def folds(self):
        """Load the data set; yield (bags_train, y_train, bags_test, y_test) per
        fold."""
        bags, y = load_mil_dataset(self.dataset, return_X_y=True)
        splitter = StratifiedKFold(
            self.n_splits, shuffle=True, random_state=self.cv_seed
        )
        for train, test in splitter.split(np.zeros((len(y), 1)), y):
            yield [bags[i] for i in train], y[train], [bags[i] for i in test], y[test]

    def reference(self):
        """The accuracy of always predicting the larger class."""
        counts = _DATASETS[self.dataset].counts
        return {
            "chance_accuracy": max(counts.n_positive, counts.n_bags - counts.n_positive)
            / counts.n_bags
        }

    def data_bytes(self):
        """Bytes of the data set's rows as float64, held twice (read and split)."""
        counts = _DATASETS[self.dataset].counts
        return 2 * counts.n_rows * counts.n_features * 8


def _check_datasets(datasets, caller):
    names = [datasets] if isinstance(datasets, str) else datasets
    try:
        names = list(names)
    except TypeError:
        names = None
    if (
        not names
        or any(name not in _DATASETS for name in names)
        or len(set(names)) != len(names)
    ):
        raise ValueError(
            f"The 'datasets' parameter of {caller} must be a non-empty list of "
            f"distinct names among {sorted(_DATASETS)}. Got {datasets!r} instead."
        )
    return names


def plan_mil_benchmark(
    estimators,
    datasets,
    *,
    n_splits,
    n_repeats,
    scoring,
    error_score,
    random_state,
    caller,
    results_file=None,
):
    """Check a benchmark's arguments and return its :class:`StudyPlan`, before
    any data are loaded. The arguments are those of :func:`mil_benchmark`."""
    estimators = _named_estimators(estimators, caller)
    _check_scoring(estimators[0][1], scoring, caller)
    names = _check_datasets(datasets, caller)
    for name in names:
        counts = _DATASETS[name].counts
        smaller = min(counts.n_positive, counts.n_bags - counts.n_positive)
        if n_splits > smaller:
            raise ValueError(
                f"The 'n_splits' parameter of {caller} must be at most the number "
                f"of bags of the smaller class of every data set, so that every "
                f"fold holds both classes: {name} has {smaller}. Got "
                f"n_splits={n_splits}."
            )
    entropy = _study_entropy(random_state, caller, results_file)
    recipes = []
    # Repeats outermost, so that the early repeats of every data set finish first.
    for repeat in range(n_repeats):
        for name in names:
            (cv_seed,) = spawn_seeds(entropy, {"dataset": name}, repeat, 1)
            recipes.append((MILDatasetRecipe(name, cv_seed % 2**32, n_splits), repeat))
    return StudyPlan(
        estimators,
        recipes,
        scoring=scoring,
        error_score=error_score,
        data_description={
            "datasets": names,
            "n_splits": n_splits,
            "n_repeats": n_repeats,
            "random_state": entropy,
        },
        caller=caller,
    )


# The study's parameters that a benchmark shares (what runs the plan, where the
# records go), and the benchmark's own.
BENCHMARK_CONSTRAINTS = {
    **{
        name: STUDY_CONSTRAINTS[name]
        for name in (
            "estimators",
            "scoring",
            "error_score",
            "n_jobs",
            "random_state",
            "results_file",
            "verbose",
        )
    },
    "datasets": [list, tuple, str],
    "n_splits": [Interval(Integral, 2, None, closed="left")],
    "n_repeats": [Interval(Integral, 1, None, closed="left")],
}


def mil_benchmark(
    estimators,
    datasets=DEFAULT_DATASETS,
    *,
    n_splits=10,
    n_repeats=5,
    scoring="accuracy",
    error_score="raise",
    n_jobs=None,
    random_state=0,
    results_file=None,
    verbose=0,
):
    """Bag accuracy of estimators on multiple-instance data sets, by the protocol
    of the deep multiple-instance papers.

    Every data set (loaded with :func:`load_mil_dataset`) is split ``n_repeats``
    times into ``n_splits`` stratified folds, each time shuffled with a new seed;
    every estimator is cloned, fitted on the bags of each training fold and scored
    on the held-out bags. With the defaults this is the protocol of Ilse et al.
    (2018): 10-fold stratified cross-validation repeated 5 times. Each task (one
    estimator, one data set, one repeat) carries only the data set's name and the
    seed of its folds and loads the data where it runs, in this process, a
    joblib worker or a Dask worker; it runs on the study engine of
    :func:`geneperm_study`, with the same results file, progress and ``n_jobs``.

    Read more in the :ref:`User Guide <mil_benchmark>`.

    Parameters
    ----------
    estimators : dict or list of (str, estimator) tuples
        The classifiers of bags to compare, by name, such as
        :func:`mil_benchmark_estimators` gives.

    datasets : list of str, default=("musk1", "musk2", "elephant")
        Names of data sets :func:`load_mil_dataset` knows.

    n_splits : int, default=10
        Stratified folds per repeat; at most the bags of a data set's smaller
        class.

    n_repeats : int, default=5
        Repeats of the cross-validation, each with other folds.

    scoring : str or callable, default="accuracy"
        The score, as in :func:`sklearn.model_selection.cross_val_score`.

    error_score : "raise" or float, default="raise"
        What a fit or score that fails gives, as in :func:`geneperm_study`.

    n_jobs : int, default=None
        Tasks to run in parallel, as in :func:`geneperm_study` (Dask included).

    random_state : int, RandomState instance or None, default=0
        Determines the folds: each data set and repeat gets its seed from
        ``random_state`` and its name alone. An int is required with
        ``results_file``. The estimators' own ``random_state`` is left as given.

    results_file : str or path-like, default=None
        A CSV file the records are appended to as they finish, resumed from when
        called again with the same arguments, as in :func:`geneperm_study`.

    verbose : int, default=0
        0 is silent; 1 shows a progress bar over tasks; 2 also a line per record.

    Returns
    -------
    records : list of dict
        One record per repeat, data set and estimator, in that order of nesting:
        ``estimator``, ``dataset``, ``repeat``, ``mean_test_score`` and
        ``std_test_score`` (over the folds), ``mean_fit_time`` (seconds),
        ``chance_accuracy`` (of always predicting the larger class),
        ``test_scores`` (the fold scores) and ``error``. Sum them up with
        :func:`mil_benchmark_table`.

    Raises
    ------
    ValueError
        Before any data are loaded, for an unknown data set, more folds than the
        bags of a class, a results file of another benchmark or in use.

    See Also
    --------
    mil_benchmark_estimators : The benchmark's pipelines.
    mil_benchmark_table : Mean and standard error beside the published rows.
    load_mil_dataset : The data sets.

    Examples
    --------
    >>> from geneperm_sk import mil_benchmark, mil_benchmark_estimators
    >>> records = mil_benchmark(
    ...     mil_benchmark_estimators(["pooled"]), ["musk1"], n_splits=3, n_repeats=2)
    >>> [(r["dataset"], r["repeat"], len(r["test_scores"])) for r in records]
    [('musk1', 0, 3), ('musk1', 1, 3)]
    """
    validate_parameter_constraints(
        BENCHMARK_CONSTRAINTS,
        {
            "estimators": estimators,
            "datasets": datasets,
            "n_splits": n_splits,
            "n_repeats": n_repeats,
            "scoring": scoring,
            "error_score": error_score,
            "n_jobs": n_jobs,
            "random_state": random_state,
            "results_file": results_file,
            "verbose": verbose,
        },
        caller_name="mil_benchmark",
    )
    check_n_jobs(n_jobs, "mil_benchmark")
    plan = plan_mil_benchmark(
        estimators,
        datasets,
        n_splits=n_splits,
        n_repeats=n_repeats,
        scoring=scoring,
        error_score=error_score,
        random_state=random_state,
        caller="mil_benchmark",
        results_file=results_file,
    )
    return run_plan(plan, results_file=results_file, n_jobs=n_jobs, verbose=verbose)


# The table -----------------------------------------------------------------------

#: Published bag accuracies on Musk1, Musk2 and Elephant, with their sources.
PUBLISHED_ROWS = (
    (
        "Attention (published)",
        {"musk1": 0.892, "musk2": 0.858, "elephant": 0.868},
        "Ilse, Tomczak and Welling, ICML 2018 (10-fold CV x 5)",
    ),
    (
        "Gated attention (published)",
        {"musk1": 0.900, "musk2": 0.863, "elephant": 0.857},
        "Ilse, Tomczak and Welling, ICML 2018 (10-fold CV x 5)",
    ),
    (
        "mi-Graph (published)",
        {"musk1": 0.889, "musk2": 0.903, "elephant": 0.869},
        "Zhou, Sun and Li, ICML 2009 (10-fold CV x 10), as quoted by Ilse et al.",
    ),
    (
        "MI-SVM (published)",
        {"musk1": 0.779, "musk2": 0.843, "elephant": 0.843},
        "Andrews, Tsochantaridis and Hofmann, NIPS 15, 2003 (10-fold CV), as "
        "quoted by Ilse et al.",
    ),
)


def mil_benchmark_table(records, *, published=True):
    """Mean bag accuracy and its standard error per estimator and data set,
    with the published rows.

    The spread is the standard error of the mean over all the fold scores of an
    estimator on a data set (for the default protocol, the 50 scores of 10 folds
    times 5 repeats): their sample standard deviation (``ddof=1``) over the
    square root of their number. It treats the folds as independent, which they
    are not quite (they share training bags), so it is a lower bound on the
    uncertainty of the mean; the standard deviation of the repeat means tells how
    much the choice of folds moves it.

    Read more in the :ref:`User Guide <mil_benchmark>`.

    Parameters
    ----------
    records : list of dict
        Records of :func:`mil_benchmark` (or read back from its results file,
        with ``test_scores`` as lists).

    published : bool, default=True
        Whether to add the published rows of Ilse et al. (2018, attention and
        gated attention), Zhou et al. (2009, mi-Graph) and Andrews et al. (2003,
        MI-SVM) on the data sets among musk1, musk2 and elephant.

    Returns
    -------
    rows : list of dict
        One per estimator and data set, estimators in the order of the records
        then the published ones: ``estimator``, ``dataset``, ``mean``,
        ``standard_error``, ``n_scores``, ``n_repeats``, ``std_of_repeat_means``
        and ``source`` (None for measured rows; the paper for published ones,
        whose spread is None).

    Examples
    --------
    >>> from geneperm_sk import mil_benchmark_table
    >>> records = [
    ...     {"estimator": "m", "dataset": "musk1", "repeat": r, "test_scores": s}
    ...     for r, s in enumerate([[0.8, 0.9], [0.9, 1.0]])]
    >>> row = mil_benchmark_table(records, published=False)[0]
    >>> round(row["mean"], 3), round(row["standard_error"], 3), row["n_scores"]
    (0.9, 0.041, 4)
    """
    groups = {}
    for index, record in enumerate(records):
        for field in ("estimator", "dataset", "test_scores"):
            if field not in record:
                raise ValueError(
                    "The 'records' parameter of mil_benchmark_table must hold "
                    "records of mil_benchmark, each with 'estimator', 'dataset' "
                    f"and 'test_scores'; record {index} lacks {field!r}."
                )
        key = (record["estimator"], record["dataset"])
        groups.setdefault(key, []).append(list(record["test_scores"]))
    rows = []
    for (estimator, dataset), repeats in groups.items():
        scores = np.array([score for repeat in repeats for score in repeat], float)
        repeat_means = [float(np.mean(repeat)) for repeat in repeats]
        rows.append(
            {
                "estimator": estimator,
                "dataset": dataset,
                "mean": float(np.mean(scores)),
                "standard_error": (
                    float(np.std(scores, ddof=1) / math.sqrt(len(scores)))
                    if len(scores) > 1
                    else math.nan
                ),
                "n_scores": len(scores),
                "n_repeats": len(repeats),
                "std_of_repeat_means": (
                    float(np.std(repeat_means, ddof=1))
                    if len(repeats) > 1
                    else math.nan
                ),
                "source": None,
            }
        )
    if published:
        datasets = list(dict.fromkeys(dataset for _, dataset in groups))
        for name, scores, source in PUBLISHED_ROWS:
            for dataset in datasets:
                if dataset in scores:
                    rows.append(
                        {
                            "estimator": name,
                            "dataset": dataset,
                            "mean": scores[dataset],
                            "standard_error": None,
                            "n_scores": None,
                            "n_repeats": None,
                            "std_of_repeat_means": None,
                            "source": source,
                        }
                    )
    return rows

"""Studies of estimators over grids of Gene-Perm settings, with repeats and a results
file that survives interruptions.

A study is planned in the calling process: the grid and ``random_state`` become
tasks, each an estimator, a repeat number and a *recipe* for its data. A recipe is
small (settings and integer seeds) and makes its data where the task runs; the
task fits a clone of its estimator on each fold, scores it and returns one record.
Records are appended to the results file (:mod:`._results_file`) as they finish.

Entry points for the rest of the library (the curve and the command line use only
these):

- :func:`plan_study` checks a study's arguments and returns a :class:`StudyPlan`,
  before any data are drawn;
- :meth:`StudyPlan.memory_needed`, :meth:`StudyPlan.open_results` and
  :meth:`StudyPlan.run` size, open the results file of and run a plan;
- :class:`StudyPlan` itself takes any list of (recipe, repeat) pairs: a recipe is
  any object with the interface of
  :class:`~geneperm_sk._geneperm_recipe.GenePermRecipe` (``fields``,
  ``FIELD_TYPES``, ``REFERENCE_FIELDS``, ``prepare``, ``folds``, ``reference``,
  ``data_bytes``), so that a study over other data (say a named data set and its
  cross-validation folds, loaded where the task runs) is a new recipe class and a
  planning function like ``geneperm_recipes``, with the checks of estimators and
  scoring, the running, the records and the results file shared;
- ``GENERATOR_SETTINGS`` and ``SETTING_TYPES`` (from the Gene-Perm recipe),
  ``STUDY_CONSTRAINTS`` and :func:`check_n_jobs` describe and check the
  arguments.
"""

import os
import sys
import time
import traceback
import unicodedata
import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import check_scoring
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.parallel import Parallel, delayed
from tqdm.auto import tqdm

from ._describe import describe
from ._geneperm_recipe import (  # noqa: F401 - the settings are entry points
    GENERATOR_SETTINGS,
    SETTING_TYPES,
    GenePermRecipe,
    geneperm_recipes,
)
from ._results_file import RecordSchema, ResultsFile, scores_agree

__all__ = ["geneperm_study"]

SCORE_FIELDS = ("mean_test_score", "std_test_score", "mean_fit_time")


# Estimators --------------------------------------------------------------------


def _is_estimator_of(kind, obj):
    """``kind(obj)`` (is_classifier or is_regressor) for estimator instances,
    False for anything else, on which scikit-learn's tags raise."""
    if isinstance(obj, type) or not hasattr(obj, "fit"):
        return False
    try:
        return kind(obj)
    except AttributeError:
        return False


def _named_estimators(estimators, caller):
    """Check ``estimators`` and return a list of (name, estimator) pairs."""
    pairs = list(estimators.items()) if isinstance(estimators, dict) else estimators
    try:
        pairs = [(name, estimator) for name, estimator in pairs]
    except (TypeError, ValueError):
        raise ValueError(
            f"The 'estimators' parameter of {caller} must be a dict of name -> "
            "estimator or a list of (name, estimator) pairs. Got "
            f"{estimators!r} instead."
        ) from None
    names = [name for name, _ in pairs]
    if not pairs or len(set(names)) != len(names):
        raise ValueError(
            f"The 'estimators' parameter of {caller} must hold at least one "
            f"estimator, under distinct names. Got the names {names}."
        )
    for name, estimator in pairs:
        if not isinstance(name, str) or not name:
            raise ValueError(
                f"The 'estimators' parameter of {caller} must name each estimator "
                f"with a non-empty str. Got the name {name!r}."
            )
        if any(unicodedata.category(character) == "Cc" for character in name):
            raise ValueError(
                f"The 'estimators' parameter of {caller} must name each estimator "
                "with a str without line breaks, tabs or other control characters, "
                "as a results file holds one record per line. Got the name "
                f"{name!r}."
            )
        if not _is_estimator_of(is_classifier, estimator):
            if isinstance(estimator, type):
                kind = "a class, not an instance"
            elif _is_estimator_of(is_regressor, estimator):
                kind = "a regressor"
            elif hasattr(estimator, "get_params"):
                kind = "an estimator that is not a classifier"
            else:
                kind = f"a {type(estimator).__name__}"
            raise ValueError(
                f"The 'estimators' parameter of {caller} must hold scikit-learn "
                f"classifier instances. Got {estimator!r} ({kind}) under the name "
                f"{name!r}."
            )
    return pairs


# Tasks -------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One record's recipe: what data, what to fit and how to score it."""

    name: str
    estimator: object
    recipe: object
    repeat: int
    scoring: object
    error_score: object
    caller: str

    @property
    def key(self):
        return (self.name, *self.recipe.fields.values(), self.repeat)

    def where(self):
        fields = " ".join(
            f"{name}={value}" for name, value in self.recipe.fields.items()
        )
        return f"the estimator {self.name!r} at {fields} repeat={self.repeat}"


# The most characters of the failed folds' tracebacks a record keeps (their end,
# where the last error is): a record is a CSV line, and Python's csv module
# refuses to read back a field of more than 131,072 characters (JSON escaping
# can double a text).
_MAX_TRACEBACK = 50_000


def _last_characters(text, limit=_MAX_TRACEBACK):
    if len(text) <= limit:
        return text
    return f"[... {len(text) - limit} characters cut]" + text[-limit:]


def run_task(task):
    """Make the task's data, fit and score its estimator; return the record.

    With ``task.error_score="raise"`` a failing fit or score raises its error, with
    a note naming the estimator, the data and the repeat; with a number, that
    number is the fold's score and the traceback goes into the record's
    ``error``.
    """
    estimator = task.recipe.prepare(task.estimator)
    scorer = check_scoring(estimator, scoring=task.scoring)
    scores, fit_times, errors = [], [], []
    for fold, (X_train, y_train, X_test, y_test) in enumerate(task.recipe.folds()):
        fold_estimator = clone(estimator)
        start = time.perf_counter()
        try:
            fold_estimator.fit(X_train, y_train)
            fit_times.append(time.perf_counter() - start)
            score = scorer(fold_estimator, X_test, y_test)
        except Exception as error:
            if len(fit_times) == fold:
                fit_times.append(time.perf_counter() - start)
            if isinstance(task.error_score, str):  # "raise"
                if hasattr(error, "add_note"):
                    error.add_note(
                        f"{task.caller}: {task.where()} failed on fold {fold}; pass "
                        "error_score=np.nan to record failures and go on."
                    )
                raise
            scores.append(float(task.error_score))
            errors.append(f"fold {fold}: {traceback.format_exc()}")
            continue
        scores.append(_checked_score(score, task))
    return {
        "estimator": task.name,
        **task.recipe.fields,
        "repeat": task.repeat,
        "mean_test_score": float(np.mean(scores)),
        "std_test_score": float(np.std(scores)),
        "mean_fit_time": float(np.mean(fit_times)),
        **task.recipe.reference(),
        "test_scores": scores,
        "error": _last_characters("\n".join(errors)) if errors else None,
    }


def _checked_score(score, task):
    if isinstance(score, Real) and not isinstance(score, bool):
        return float(score)
    if isinstance(score, np.ndarray) and score.ndim == 0 and score.dtype.kind in "fiu":
        return float(score)
    raise ValueError(
        f"The 'scoring' parameter of {task.caller} must give a number: "
        f"{task.scoring!r} returned {score!r} (a {type(score).__name__}) for "
        f"{task.where()}."
    )


def record_schema(recipe_class):
    """The columns of the records of tasks with recipes of ``recipe_class``."""
    fields = (
        ("estimator", str),
        *recipe_class.FIELD_TYPES.items(),
        ("repeat", int),
        *((name, float) for name in SCORE_FIELDS),
        *((name, float) for name in recipe_class.REFERENCE_FIELDS),
        ("test_scores", "json"),
        ("error", "json"),
    )
    key = ("estimator", *recipe_class.FIELD_TYPES, "repeat")
    return RecordSchema(fields=fields, key=key, check=_check_record)


def _check_record(record):
    scores_agree(record, "mean_test_score", "std_test_score", "test_scores")
    if record["error"] is not None and not isinstance(record["error"], str):
        raise ValueError(f"error must be null or text, got {record['error']!r}")


RECORD_FIELDS = tuple(record_schema(GenePermRecipe).names)


# The plan ----------------------------------------------------------------------


class StudyPlan:
    """A checked study: its tasks and its description, before any work.

    Parameters
    ----------
    estimators : list of (str, estimator)
        Checked by :func:`plan_study`.
    recipes : list of (recipe, int)
        Each data recipe with its repeat number, in the order the records come.
    scoring, error_score
        As in :func:`geneperm_study`.
    data_description : dict
        What the recipes were made from (settings, repeats, folds, seed): with the
        estimators, scoring and error_score, the study's description.
    caller : str
        The public function the study runs for, for messages.

    Attributes
    ----------
    tasks : list of Task
    description : dict
        JSON-ready; a results file resumes only a study with the same one.
    unresumable : str or None
        Why the description could be the same for two different studies.
    """

    def __init__(
        self, estimators, recipes, *, scoring, error_score, data_description, caller
    ):
        self.caller = caller
        self.estimators = estimators
        self.tasks = [
            Task(name, estimator, recipe, repeat, scoring, error_score, caller)
            for recipe, repeat in recipes
            for name, estimator in estimators
        ]
        kinds = {type(recipe) for recipe, _ in recipes}
        if len(kinds) != 1:
            raise ValueError(f"{caller} plans tasks of one kind of data, got {kinds}.")
        self.schema = record_schema(kinds.pop())
        opaque = []
        described = {}
        for where, value in [
            *((f"estimators[{name!r}]", est) for name, est in estimators),
            ("scoring", scoring),
            ("error_score", error_score),
        ]:
            described[where], parts = describe(value, where)
            opaque += parts
        data, parts = describe(data_description, "the data")
        opaque += parts
        self.description = {
            "estimators": {
                name: described[f"estimators[{name!r}]"] for name, _ in estimators
            },
            "scoring": described["scoring"],
            "error_score": described["error_score"],
            **data,
        }
        self.unresumable = "; ".join(opaque) or None

    def memory_needed(self, n_jobs):
        """Bytes of data the tasks hold at once with ``n_jobs`` (as joblib counts
        them), the number of tasks at once, and the fields of the largest task's
        data."""
        n_at_once = min(effective_n_jobs(n_jobs), len(self.tasks))
        largest = max(self.tasks, key=lambda task: task.recipe.data_bytes())
        return (
            n_at_once * largest.recipe.data_bytes(),
            n_at_once,
            largest.recipe.fields,
        )

    def open_results(self, results_file, *, overwrite=False):
        """Open (lock and read, or create) the results file before any work.

        Returns a :class:`ResultsFile` to pass to :meth:`run` and close after it
        (it is a context manager). Raises ValueError for a file of another study,
        one a study did not write, or one in use by another run.
        """
        results = ResultsFile(
            results_file,
            self.description,
            schema=self.schema,
            caller=self.caller,
            overwrite=overwrite,
            unresumable=self.unresumable,
        )
        expected = {task.key for task in self.tasks}
        stray = [key for key in results.records if key not in expected]
        if stray:
            results.close()
            raise ValueError(
                f"The results_file {str(results.path)!r} of {self.caller} holds "
                f"records that are not part of this study, such as {stray[0]}."
            )
        return results

    def run(self, *, n_jobs=None, results=None, verbose=0):
        """Run the tasks not yet in ``results`` and return every record, in task
        order. Records are appended to ``results`` as they finish."""
        records = dict(results.records) if results is not None else {}
        pending = [task for task in self.tasks if task.key not in records]
        if pending and effective_n_jobs(n_jobs) > len(pending):
            n_jobs = len(pending)  # no worker without a task to run
        with tqdm(
            total=len(self.tasks),
            initial=len(self.tasks) - len(pending),
            desc=self.caller,
            unit="task",
            disable=verbose < 1,
            file=sys.stderr,
        ) as progress:
            # One task per batch: each record comes back, and is saved, as soon as
            # its task is done, and an interrupt waits for no batch to finish.
            outputs = Parallel(
                n_jobs=n_jobs, batch_size=1, return_as="generator_unordered"
            )(delayed(run_task)(task) for task in pending)
            try:
                for record in outputs:
                    records[self.schema.key_of(record)] = record
                    if results is not None:
                        results.append(record)
                    if record["error"] is not None:
                        self._warn_failure(record)
                    progress.update()
                    if verbose >= 2:
                        progress.write(self._record_line(record))
            finally:
                # On an error or KeyboardInterrupt, cancel the tasks not started.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    outputs.close()
        ordered = [records[task.key] for task in self.tasks]
        if results is not None:
            results.finish(ordered)
        return ordered

    def _record_fields(self, record):
        kind = type(self.tasks[0].recipe)
        return " ".join(
            f"{name}={record[name]}"
            for name in kind.FIELD_TYPES
            if name in self.varied or not self.varied
        )

    @property
    def varied(self):
        """The record fields that take more than one value across the tasks."""
        values = {}
        for task in self.tasks:
            for name, value in task.recipe.fields.items():
                values.setdefault(name, set()).add(value)
        return [name for name, seen in values.items() if len(seen) > 1]

    def _record_line(self, record):
        return (
            f"[{self.caller}] {self._record_fields(record)} repeat={record['repeat']} "
            f"{record['estimator']}: {record['mean_test_score']:.3f} +- "
            f"{record['std_test_score']:.3f} (fit {record['mean_fit_time']:.2f} s"
            + (
                f", Bayes {record['bayes_accuracy']:.3f})"
                if "bayes_accuracy" in record
                else ")"
            )
        )

    def _warn_failure(self, record):
        last_line = record["error"].strip().splitlines()[-1]
        warnings.warn(
            f"{self.caller}: the estimator {record['estimator']!r} failed at "
            f"{self._record_fields(record)} repeat={record['repeat']}; its score "
            f"there is the error_score. The last line of the error: {last_line}",
            FitFailedWarning,
            stacklevel=3,
        )


# Planning a Gene-Perm study --------------------------------------------------


def _check_scoring(estimator, scoring, caller):
    try:
        check_scoring(estimator, scoring=scoring)
    except (ValueError, TypeError) as error:
        raise ValueError(f"The 'scoring' parameter of {caller}: {error}") from None


def check_n_jobs(n_jobs, caller):
    """Refuse ``n_jobs=0``, as joblib would only when the work starts."""
    if n_jobs == 0:
        raise ValueError(
            f"The 'n_jobs' parameter of {caller} must be a nonzero int (-1 for all "
            "processors) or None. Got 0 instead."
        )


def plan_study(
    estimators,
    param_grid,
    *,
    n_repeats,
    cv,
    test_size,
    scoring,
    error_score,
    random_state,
    generator_params,
    caller,
    grid_name="param_grid",
    results_file=None,
):
    """Check a Gene-Perm study's arguments and return its :class:`StudyPlan`.

    The arguments are those of :func:`geneperm_study` (already checked against
    ``STUDY_CONSTRAINTS``), with the fixed generator settings as one dict;
    ``caller`` and ``grid_name`` name the public function and its grid parameter
    in messages, and ``results_file`` is passed only to require an int
    ``random_state`` with it. Everything that can be wrong with the arguments is
    found here, before any data are drawn. Raises ValueError or TypeError.
    """
    estimators = _named_estimators(estimators, caller)
    _check_scoring(estimators[0][1], scoring, caller)
    recipes, data_description = geneperm_recipes(
        param_grid,
        n_repeats=n_repeats,
        cv=cv,
        test_size=test_size,
        random_state=random_state,
        generator_params=generator_params,
        caller=caller,
        grid_name=grid_name,
        results_file=results_file,
    )
    return StudyPlan(
        estimators,
        recipes,
        scoring=scoring,
        error_score=error_score,
        data_description=data_description,
        caller=caller,
    )


# Checked by validate_parameter_constraints at the top of geneperm_study rather than
# by the @validate_params decorator, which would rename the parameter errors raised
# by the estimators' own fits ("The 'C' parameter of geneperm_study must be ...").
STUDY_CONSTRAINTS = {
    "estimators": [dict, list],
    "param_grid": [dict],
    "n_repeats": [Interval(Integral, 1, None, closed="left")],
    "cv": "no_validation",  # checked by _check_cv, with its own message
    "test_size": [Interval(Integral, 1, None, closed="left")],
    "scoring": [str, callable],
    "error_score": [StrOptions({"raise"}), Real],
    "n_jobs": [Integral, None],
    "random_state": ["random_state"],
    "results_file": [str, os.PathLike, None],
    "verbose": ["verbose"],
}


def geneperm_study(
    estimators,
    param_grid,
    *,
    n_repeats=1,
    cv=None,
    test_size=10_000,
    scoring="accuracy",
    error_score="raise",
    n_jobs=None,
    random_state=None,
    results_file=None,
    verbose=0,
    **generator_params,
):
    """Scores of estimators over a grid of Gene-Perm settings, with repeats.

    Every point of ``param_grid`` (all combinations of its values, like
    :class:`~sklearn.model_selection.ParameterGrid`) is drawn ``n_repeats`` times
    with :func:`make_geneperm`, each time with a new table, and every estimator is
    fitted on each draw and scored, by default on a fresh test set drawn from the
    same table. Estimators are cloned; every estimator that reads blocks of rows
    (one with both ``block_size`` and ``n_columns`` parameters, such as
    :class:`AbsMeanClassifier`, also inside a pipeline) is told the number of
    columns of each draw, so that it reads the rows right whatever the block size.

    Each task (one estimator on one draw) carries only its settings and two integer
    seeds, and draws its data where it runs: in the calling process, in a joblib
    worker, or on a Dask worker. Only the records come back.

    Read more in the :ref:`User Guide <study>`.

    Parameters
    ----------
    estimators : dict or list of (str, estimator) tuples
        The classifiers to compare, by name.

    param_grid : dict of str -> list
        The :func:`make_geneperm` settings to vary ("block_size", "n_columns",
        "n_table_rows", "n_samples", "positive_fraction"), each with a list of
        distinct values. Points run in the order of the grid, the first setting
        varying slowest.

    n_repeats : int, default=1
        The number of independent draws (each with its own table) per grid point.

    cv : None, int or cross-validation splitter, default=None
        How a draw is scored. None: fit on the ``n_samples`` drawn samples and
        score on ``test_size`` fresh samples from the same table. An int: that
        many stratified folds of the drawn samples; a splitter: its splits.

    test_size : int, default=10_000
        The number of fresh test samples when ``cv`` is None.

    scoring : str or callable, default="accuracy"
        The score, as in :func:`sklearn.model_selection.cross_val_score`. The
        records' ``bayes_accuracy`` and ``chance_accuracy`` refer to accuracy.
        A scorer that returns anything but a number is an error.

    error_score : "raise" or float, default="raise"
        What a fit or score that fails gives, as in
        :func:`sklearn.model_selection.cross_validate`. "raise": the error stops
        the study, with a note naming the estimator, the settings and the repeat
        (records finished before it stay in ``results_file``). A number: it is the
        failed fold's score, the record's ``error`` holds the traceback, a
        :class:`~sklearn.exceptions.FitFailedWarning` is shown and the study goes
        on.

    n_jobs : int, default=None
        The number of tasks to run in parallel, through joblib: ``None`` means 1
        unless in a :func:`joblib.parallel_config` context, and ``-1`` all
        processors; never more than the tasks to run. Inside
        ``joblib.parallel_config(backend="dask")`` with a
        :class:`distributed.Client` the tasks run on that Dask cluster, whose
        workers need ``geneperm_sk`` installed.

    random_state : int, RandomState instance or None, default=None
        Determines the data. Each grid point and repeat gets its seeds from
        ``random_state`` and from the point's settings alone, so the records are
        the same whatever ``n_jobs`` or backend, and a point draws the same data
        whichever other points are in the study. An int is required with
        ``results_file``. The estimators' own ``random_state`` (and that of a
        shuffling ``cv`` splitter) is left as given: fix it too for reproducible
        fits.

    results_file : str or path-like, default=None
        A CSV file to append each record to as soon as it is finished, one row per
        record, readable by :func:`pandas.read_csv` (``test_scores`` and
        ``error`` are JSON). The study's description is written beside it, as
        ``<results_file>.json``. Calling again with the same arguments and file
        resumes: records already in the file are not computed again, a line cut
        short by a killed run is dropped, and the finished file holds the rows in
        the order of the returned records, as an uninterrupted run writes it. A
        file written by a different study is an error, and so is a study whose
        description cannot tell it from another (a parameter holding an object
        whose state is hidden from Python). While a run uses the file it holds a
        lock on ``<results_file>.lock``: a second run on the same file is an
        error. Files that a study did not write are never replaced. A symbolic
        link is followed.

    verbose : int, default=0
        0 is silent; 1 shows a progress bar over tasks on stderr; 2 also prints a
        line per record.

    **generator_params
        Further :func:`make_geneperm` settings held fixed, such as
        ``n_columns=20``. Settings neither in ``param_grid`` nor here take
        make_geneperm's defaults.

    Returns
    -------
    records : list of dict
        One record per grid point, repeat and estimator, in that order of nesting,
        ready for ``pandas.DataFrame``: ``estimator`` (the name), the five
        settings, ``repeat``, ``mean_test_score``, ``std_test_score`` (over folds;
        0 with ``cv=None``), ``mean_fit_time`` (seconds), ``bayes_accuracy``,
        ``chance_accuracy``, ``test_scores`` (the fold scores, or the one test
        score) and ``error`` (None, or the tracebacks of the failed folds with a
        numeric ``error_score``).

    Raises
    ------
    ValueError
        Before any data are drawn, for an invalid grid, a training size too small
        for the classes or folds (a draw must lack samples of a class with
        probability at most 1e-6), data larger than numpy can address, a results
        file of another study, or one in use by another run.

    See Also
    --------
    geneperm_curve : The same study over one setting.
    GenePermCurveDisplay : Plot scores against one setting.
    GenePermHeatmapDisplay : Plot the gap to the Bayes ceiling over two settings.

    Notes
    -----
    The seeds of a grid point and repeat come from a
    :class:`numpy.random.SeedSequence` with ``random_state`` as entropy and a spawn
    key made of a SHA-256 digest of the point's settings and the repeat number. All
    estimators see the same draws (paired comparisons).

    A KeyboardInterrupt stops the study: running tasks of a process pool or Dask
    cluster are cancelled and the records already appended to ``results_file``
    stay there for the next call to resume from.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from geneperm_sk import geneperm_study
    >>> records = geneperm_study(
    ...     {"LogisticRegression": LogisticRegression()},
    ...     {"block_size": [1, 4], "n_samples": [100, 400]},
    ...     n_repeats=2, test_size=1000, n_columns=10, random_state=0)
    >>> len(records)
    8
    >>> [records[0][key] for key in ("estimator", "block_size", "n_samples", "repeat")]
    ['LogisticRegression', 1, 100, 0]
    >>> records[0]["bayes_accuracy"], records[-1]["bayes_accuracy"]
    (0.75, 0.96875)
    """
    validate_parameter_constraints(
        STUDY_CONSTRAINTS,
        {
            "estimators": estimators,
            "param_grid": param_grid,
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
        caller_name="geneperm_study",
    )
    check_n_jobs(n_jobs, "geneperm_study")
    plan = plan_study(
        estimators,
        param_grid,
        n_repeats=n_repeats,
        cv=cv,
        test_size=test_size,
        scoring=scoring,
        error_score=error_score,
        random_state=random_state,
        generator_params=generator_params,
        caller="geneperm_study",
        results_file=results_file,
    )
    return run_plan(plan, results_file=results_file, n_jobs=n_jobs, verbose=verbose)


def run_plan(plan, *, results_file, n_jobs, verbose):
    """Run ``plan`` into ``results_file`` (None for none) and return its records:
    what :func:`geneperm_study` and :func:`geneperm_curve` do once planned."""
    if results_file is None:
        return plan.run(n_jobs=n_jobs, verbose=verbose)
    with plan.open_results(results_file) as results:
        return plan.run(n_jobs=n_jobs, results=results, verbose=verbose)

"""Studies of estimators over grids of Gene-Perm settings, with repeats and a results
file that survives interruptions.

A study is planned in the calling process: the grid and ``random_state`` become
tasks, each a recipe of generator settings, a repeat number and two integer seeds.
A task draws its own data where it runs, fits a clone of one estimator, scores it and
returns one record. Records are appended to the results file as they finish.
"""

import csv
import hashlib
import inspect
import io
import itertools
import json
import os
import re
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from scipy.stats import binom
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_parameter_constraints
from sklearn.utils.parallel import Parallel, delayed
from tqdm.auto import tqdm

from ._generator import bayes_accuracy, check_table_settings, make_geneperm

__all__ = ["geneperm_study"]

GENERATOR_SETTINGS = (
    "block_size",
    "n_columns",
    "n_table_rows",
    "n_samples",
    "positive_fraction",
)
SCORE_FIELDS = (
    "mean_test_score",
    "std_test_score",
    "mean_fit_time",
    "bayes_accuracy",
    "chance_accuracy",
    "test_scores",
)
RECORD_FIELDS = ("estimator", *GENERATOR_SETTINGS, "repeat", *SCORE_FIELDS)

_SETTING_CONSTRAINTS = {
    "block_size": Interval(Integral, 1, None, closed="left"),
    "n_columns": Interval(Integral, 2, None, closed="left"),
    "n_table_rows": Interval(Integral, 1, None, closed="left"),
    "n_samples": Interval(Integral, 1, None, closed="left"),
    "positive_fraction": Interval(Real, 0, 1, closed="both"),
}
_SETTING_TYPES = {name: int for name in GENERATOR_SETTINGS} | {
    "positive_fraction": float
}
_GENERATOR_DEFAULTS = {
    name: _SETTING_TYPES[name](
        inspect.signature(make_geneperm).parameters[name].default
    )
    for name in GENERATOR_SETTINGS
}

# A grid point is refused when a draw of its training set would hold fewer samples
# of a class than the folds need with at least this probability.
_MAX_MISSING_CLASS_PROBABILITY = 1e-6

# The form of the results file; bumped if its columns or encoding change.
_RESULTS_FORMAT = "geneperm_study results, version 1"

_MEMORY_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


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


def _reads_blocks(obj):
    """Whether ``obj`` is an estimator that reads blocks of rows: one whose
    ``get_params(deep=False)`` has both ``block_size`` and ``n_columns``."""
    if isinstance(obj, type) or not callable(getattr(obj, "get_params", None)):
        return False
    try:
        params = obj.get_params(deep=False)
    except TypeError:
        return False
    return "block_size" in params and "n_columns" in params


def _with_row_layout(estimator, n_columns):
    """A clone of ``estimator`` whose block readers read rows of ``n_columns``.

    Every estimator object in ``estimator`` that reads blocks of rows (see
    :func:`_reads_blocks`), be it ``estimator`` itself, a step of a pipeline or any
    other nested parameter, gets ``n_columns=n_columns`` and ``block_size=None``, so
    that it infers the block size from the width of the data. Other estimators are
    only cloned.
    """
    estimator = clone(estimator)
    layout = {"n_columns": n_columns, "block_size": None}
    updates = dict(layout) if _reads_blocks(estimator) else {}
    for name, value in estimator.get_params(deep=True).items():
        if _reads_blocks(value):
            updates.update({f"{name}__{key}": item for key, item in layout.items()})
    return estimator.set_params(**updates)


# Settings ----------------------------------------------------------------------


def _check_setting(name, value, caller):
    """Return ``value`` as the Python type of setting ``name``, or raise."""
    constraint = _SETTING_CONSTRAINTS[name]
    if isinstance(value, bool) or not constraint.is_satisfied_by(value):
        raise ValueError(
            f"The {name!r} setting of {caller} must be {constraint}. Got "
            f"{value!r} instead."
        )
    return _SETTING_TYPES[name](value)


def _check_point(settings, caller):
    """The rules that tie settings together, as make_geneperm applies them."""
    check_table_settings(
        n_columns=settings["n_columns"],
        block_size=settings["block_size"],
        n_table_rows=settings["n_table_rows"],
        owner=caller,
        kind="setting",
    )


def _missing_class_probability(n_samples, positive_fraction, per_class):
    """Probability that ``n_samples`` draws hold fewer than ``per_class`` samples
    of one of the two classes (an upper bound: the sum over both classes)."""
    return float(
        binom.cdf(per_class - 1, n_samples, positive_fraction)
        + binom.cdf(per_class - 1, n_samples, 1 - positive_fraction)
    )


def _check_class_counts(n_samples, positive_fraction, per_class, reason, caller):
    """Refuse training sizes whose draws too often lack samples of a class."""
    if positive_fraction in (0, 1):
        raise ValueError(
            f"The 'positive_fraction' setting of {caller} must be strictly between 0 "
            f"and 1, so that the data hold both classes. Got {positive_fraction!r} "
            "instead."
        )
    probability = _missing_class_probability(n_samples, positive_fraction, per_class)
    if probability <= _MAX_MISSING_CLASS_PROBABILITY:
        return
    smallest = n_samples
    while (
        _missing_class_probability(smallest, positive_fraction, per_class)
        > _MAX_MISSING_CLASS_PROBABILITY
    ):
        smallest = max(smallest + 1, int(smallest * 1.05))
    while (
        smallest > n_samples + 1
        and _missing_class_probability(smallest - 1, positive_fraction, per_class)
        <= _MAX_MISSING_CLASS_PROBABILITY
    ):
        smallest -= 1
    raise ValueError(
        f"The 'n_samples' setting of {caller} is too small: {reason} every draw "
        f"needs at least {per_class} samples of each class, and with "
        f"n_samples={n_samples} and positive_fraction={positive_fraction} a draw "
        f"lacks them with probability {probability:.2g} (at most "
        f"{_MAX_MISSING_CLASS_PROBABILITY:g} is allowed). Use n_samples >= "
        f"{smallest}."
    )


def _check_cv(cv, caller):
    """Return the samples of each class a draw needs for ``cv``, or raise."""
    if cv is None:
        return 2, "to fit on both classes"
    if isinstance(cv, Integral) and not isinstance(cv, bool) and cv >= 2:
        return int(cv), f"for {int(cv)} stratified folds"
    if not isinstance(cv, Integral) and callable(getattr(cv, "split", None)):
        return 2, "to fit on both classes"
    raise ValueError(
        f"The 'cv' parameter of {caller} must be None (score on a fresh test set), "
        "an int >= 2 (stratified folds) or a cross-validation splitter with a "
        f"split method. Got {cv!r} instead."
    )


def _study_entropy(random_state, caller, results_file):
    """The root entropy of the study's seeds."""
    if results_file is not None and not (
        isinstance(random_state, Integral) and not isinstance(random_state, bool)
    ):
        raise ValueError(
            f"The 'random_state' parameter of {caller} must be an int when "
            "'results_file' is given, so that a resumed study draws the same data "
            f"as the interrupted one. Got {random_state!r} instead."
        )
    if isinstance(random_state, Integral):
        return int(random_state)
    if random_state is None:
        return int(np.random.SeedSequence().entropy)
    return int(check_random_state(random_state).randint(2**32))


def _point_seeds(entropy, settings, repeat):
    """The training-data and test-data seeds of one grid point and repeat.

    They depend only on the study's entropy, the point's settings and the repeat
    number (through a SHA-256 of the settings, not Python's salted ``hash``), so a
    point draws the same data whichever other points are in the study.
    """
    text = json.dumps({key: settings[key] for key in GENERATOR_SETTINGS})
    digest = hashlib.sha256(text.encode()).digest()
    spawn_key = (*np.frombuffer(digest[:16], dtype="<u4").tolist(), repeat)
    sequence = np.random.SeedSequence(entropy, spawn_key=spawn_key)
    return tuple(int(seed) for seed in sequence.generate_state(2))


def _task_bytes(settings, *, test_size, cv):
    """Bytes a task holds at once: the table as int8 and as float32, and the
    training (and with ``cv=None`` test) samples as float32."""
    row_bytes = settings["n_columns"] * (1 + 4)
    sample_bytes = settings["block_size"] * settings["n_columns"] * 4
    n_drawn = settings["n_samples"] + (test_size if cv is None else 0)
    return settings["n_table_rows"] * row_bytes + n_drawn * sample_bytes


# Description (the study's fingerprint) -----------------------------------------


def _describe(value):
    """A JSON-ready description of a parameter value that is the same in every run
    for equal parameters: estimators by class and parameters, callables by name."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_describe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _describe(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return {"array": _describe(value.tolist()), "dtype": str(value.dtype)}
    cls = value if isinstance(value, type) else type(value)
    path = f"{cls.__module__}.{cls.__qualname__}"
    if isinstance(value, type):
        return path
    if callable(getattr(value, "get_params", None)):
        try:
            params = value.get_params(deep=False)
        except TypeError:
            params = None
        if params is not None:
            return {"class": path, "params": _describe(params)}
    if inspect.isroutine(value):
        return f"{value.__module__}.{value.__qualname__}"
    return {"class": path, "repr": _MEMORY_ADDRESS.sub("", repr(value))}


# Tasks -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Task:
    """One record's recipe: what to draw, what to fit and how to score it."""

    name: str
    estimator: object
    settings: tuple  # the values of GENERATOR_SETTINGS, in that order
    repeat: int
    data_seed: int
    test_seed: int
    cv: object
    test_size: int
    scoring: object

    @property
    def key(self):
        return (self.name, *self.settings, self.repeat)


def _record_key(record):
    return (
        record["estimator"],
        *(record[name] for name in GENERATOR_SETTINGS),
        record["repeat"],
    )


def _run_task(task):
    """Draw the task's data, fit and score its estimator, and return the record."""
    settings = dict(zip(GENERATOR_SETTINGS, task.settings, strict=True))
    generator_params = {
        "block_size": settings["block_size"],
        "positive_fraction": settings["positive_fraction"],
    }
    X, y, table = make_geneperm(
        settings["n_samples"],
        n_columns=settings["n_columns"],
        n_table_rows=settings["n_table_rows"],
        return_table=True,
        random_state=task.data_seed,
        **generator_params,
    )
    estimator = _with_row_layout(task.estimator, settings["n_columns"])
    scorer = check_scoring(estimator, scoring=task.scoring)
    if task.cv is None:
        X_test, y_test = make_geneperm(
            task.test_size, table=table, random_state=task.test_seed, **generator_params
        )
        del table
        folds = [(X, y, X_test, y_test)]
    else:
        del table
        splitter = check_cv(task.cv, y, classifier=True)
        folds = (
            (X[train], y[train], X[test], y[test])
            for train, test in splitter.split(X, y)
        )
    scores, fit_times = [], []
    for X_train, y_train, X_test, y_test in folds:
        fold_estimator = estimator if task.cv is None else clone(estimator)
        start = time.perf_counter()
        fold_estimator.fit(X_train, y_train)
        fit_times.append(time.perf_counter() - start)
        scores.append(float(scorer(fold_estimator, X_test, y_test)))
    positive_fraction = settings["positive_fraction"]
    return {
        "estimator": task.name,
        **settings,
        "repeat": task.repeat,
        "mean_test_score": float(np.mean(scores)),
        "std_test_score": float(np.std(scores)),
        "mean_fit_time": float(np.mean(fit_times)),
        "bayes_accuracy": bayes_accuracy(settings["block_size"], positive_fraction),
        "chance_accuracy": max(positive_fraction, 1.0 - positive_fraction),
        "test_scores": scores,
    }


# The results file --------------------------------------------------------------


def _row_from_record(record):
    buffer = io.StringIO()
    row = [record[field] for field in RECORD_FIELDS]
    row[-1] = json.dumps(record["test_scores"])
    csv.writer(buffer, lineterminator="\n").writerow(row)
    return buffer.getvalue()


def _record_from_row(row):
    values = dict(zip(RECORD_FIELDS, row, strict=True))
    record = {"estimator": values["estimator"]}
    for name in GENERATOR_SETTINGS:
        record[name] = _SETTING_TYPES[name](values[name])
    record["repeat"] = int(values["repeat"])
    for name in SCORE_FIELDS[:-1]:
        record[name] = float(values[name])
    record["test_scores"] = [
        float(score) for score in json.loads(values["test_scores"])
    ]
    return record


def _write_atomically(path, text):
    """Replace ``path`` by ``text`` so that a crash leaves the old or new file."""
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as file:
            file.write(text)
        # mkstemp makes the file private (0o600); give it the mode any new file
        # of the user's gets, as the file it replaces had.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class _ResultsFile:
    """A CSV file of records, one row each, with the study's description beside it
    in ``<file>.json``. Rows are appended and flushed one at a time; a row counts
    only once its line is complete."""

    def __init__(self, path, description, *, caller, overwrite=False):
        self.path = Path(os.fspath(path))
        self.description_path = self.path.with_name(self.path.name + ".json")
        self.caller = caller
        self._text = json.dumps(description, sort_keys=True)
        for candidate in (self.path, self.description_path):
            if candidate.is_dir():
                raise ValueError(
                    f"The 'results_file' parameter of {caller} must name a file; "
                    f"{str(candidate)!r} is a folder."
                )
        if not self.path.parent.is_dir():
            raise ValueError(
                f"The 'results_file' parameter of {caller} must be in an existing "
                f"folder. Got {str(self.path)!r}, whose folder does not exist."
            )
        if overwrite:
            self.path.unlink(missing_ok=True)
            self.description_path.unlink(missing_ok=True)
        self.records = {}
        if self.path.exists():
            self._check_description()
            self._read()
        else:
            _write_atomically(
                self.description_path,
                json.dumps(
                    {"format": _RESULTS_FORMAT, "study": description},
                    sort_keys=True,
                    indent=1,
                )
                + "\n",
            )
            _write_atomically(self.path, ",".join(RECORD_FIELDS) + "\n")
        self.order = list(self.records)

    def _check_description(self):
        where = f"results_file {str(self.path)!r}"
        try:
            stored = json.loads(self.description_path.read_text(encoding="utf-8"))
            stored_format, study = stored["format"], stored["study"]
        except FileNotFoundError:
            raise ValueError(
                f"The {where} of {self.caller} exists but the study description that "
                f"{self.caller} writes beside it, {self.description_path.name!r}, "
                "does not: the file was not written by a study, or its description "
                "was removed. Refusing to append to it; move it away or choose "
                "another results_file."
            ) from None
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(
                f"The study description {str(self.description_path)!r} beside the "
                f"{where} of {self.caller} cannot be read ({error}). Move both files "
                "away or choose another results_file."
            ) from None
        if stored_format != _RESULTS_FORMAT:
            raise ValueError(
                f"The {where} of {self.caller} has the format {stored_format!r}; "
                f"this version reads {_RESULTS_FORMAT!r}. Choose another "
                "results_file."
            )
        stored_text = json.dumps(study, sort_keys=True)
        if stored_text != self._text:
            current = json.loads(self._text)
            differences = [
                f"{key} (in the file: {_shorten(study.get(key))}; now: "
                f"{_shorten(current.get(key))})"
                for key in sorted(set(study) | set(current))
                if json.dumps(study.get(key), sort_keys=True)
                != json.dumps(current.get(key), sort_keys=True)
            ]
            raise ValueError(
                f"The {where} of {self.caller} holds the records of a different "
                f"study, which differs in {'; '.join(differences)}. Call with the "
                "same arguments to resume it, or choose another results_file."
            )

    def _read(self):
        with open(self.path, "rb") as file:
            content = file.read()
        complete = content[: content.rfind(b"\n") + 1]
        if len(complete) != len(content):
            # The last line was cut short when a run was killed: it is dropped.
            os.truncate(self.path, len(complete))
        lines = complete.decode("utf-8").splitlines()
        if not lines:
            _write_atomically(self.path, ",".join(RECORD_FIELDS) + "\n")
            return
        header = next(csv.reader(lines[:1]))
        if header != list(RECORD_FIELDS):
            raise ValueError(
                f"The results_file {str(self.path)!r} of {self.caller} has the "
                f"columns {header}; expected {list(RECORD_FIELDS)}."
            )
        for number, row in enumerate(csv.reader(lines[1:]), start=2):
            try:
                record = _record_from_row(row)
            except (ValueError, TypeError) as error:
                raise ValueError(
                    f"Line {number} of the results_file {str(self.path)!r} of "
                    f"{self.caller} cannot be read as a record ({error})."
                ) from None
            key = _record_key(record)
            if key in self.records:
                raise ValueError(
                    f"The results_file {str(self.path)!r} of {self.caller} holds two "
                    f"records for {key} (line {number} repeats one): was it written "
                    "by two runs at once?"
                )
            self.records[key] = record

    def append(self, record):
        with open(self.path, "a", newline="", encoding="utf-8") as file:
            file.write(_row_from_record(record))
        self.order.append(_record_key(record))

    def finish(self, records):
        """Once every record is in, put the rows in the order of ``records``."""
        if self.order != [_record_key(record) for record in records]:
            rows = "".join(_row_from_record(record) for record in records)
            _write_atomically(self.path, ",".join(RECORD_FIELDS) + "\n" + rows)
            self.order = [_record_key(record) for record in records]


def _shorten(value, limit=200):
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# The study ---------------------------------------------------------------------


class _Study:
    """A checked plan: the tasks of a study and its description.

    Everything that can be wrong with the arguments is found here, before any data
    are drawn; :meth:`run` then does the work.
    """

    def __init__(
        self,
        estimators,
        param_grid,
        *,
        n_repeats,
        cv,
        test_size,
        scoring,
        random_state,
        generator_params,
        caller,
        grid_name="param_grid",
        results_file=None,
    ):
        self.caller = caller
        self.estimators = _named_estimators(estimators, caller)
        unknown = set(generator_params) - set(GENERATOR_SETTINGS)
        if unknown:
            raise TypeError(
                f"{caller} passes only make_geneperm's settings "
                f"{GENERATOR_SETTINGS} on to it; got the unexpected {sorted(unknown)}."
            )
        grid = self._check_grid(param_grid, grid_name)
        both = [name for name in grid if name in generator_params]
        if both:
            raise ValueError(
                f"{caller} varies {both[0]!r} over {grid_name}; do not also pass "
                f"{both[0]}={generator_params[both[0]]!r}."
            )
        fixed = {
            name: _check_setting(name, value, caller)
            for name, value in generator_params.items()
        }
        self.grid = grid
        per_class, reason = _check_cv(cv, caller)
        check_scoring(self.estimators[0][1], scoring=scoring)

        values = {
            name: grid.get(name, [fixed.get(name, _GENERATOR_DEFAULTS[name])])
            for name in GENERATOR_SETTINGS
        }
        self.points = []
        for combination in itertools.product(*grid.values()):
            settings = {**_GENERATOR_DEFAULTS, **fixed}
            settings.update(zip(grid, combination, strict=True))
            settings = {name: settings[name] for name in GENERATOR_SETTINGS}
            _check_point(settings, caller)
            self.points.append(settings)
        for n_samples, positive_fraction in sorted(
            {(point["n_samples"], point["positive_fraction"]) for point in self.points}
        ):
            _check_class_counts(n_samples, positive_fraction, per_class, reason, caller)

        self.cv, self.test_size = cv, test_size
        entropy = _study_entropy(random_state, caller, results_file)
        self.tasks = []
        for settings in self.points:
            for repeat in range(n_repeats):
                data_seed, test_seed = _point_seeds(entropy, settings, repeat)
                for name, estimator in self.estimators:
                    self.tasks.append(
                        _Task(
                            name=name,
                            estimator=estimator,
                            settings=tuple(settings.values()),
                            repeat=repeat,
                            data_seed=data_seed,
                            test_seed=test_seed,
                            cv=cv,
                            test_size=test_size,
                            scoring=scoring,
                        )
                    )
        self.description = {
            "estimators": {name: _describe(est) for name, est in self.estimators},
            "settings": {name: sorted(values[name]) for name in GENERATOR_SETTINGS},
            "n_repeats": n_repeats,
            "cv": _describe(cv),
            "test_size": test_size if cv is None else None,
            "scoring": _describe(scoring),
            "random_state": entropy,
        }

    def _check_grid(self, param_grid, grid_name):
        caller = self.caller
        grid = {}
        for name, grid_values in param_grid.items():
            if name not in GENERATOR_SETTINGS:
                raise ValueError(
                    f"The {grid_name!r} parameter of {caller} must map make_geneperm "
                    f"settings {GENERATOR_SETTINGS} to lists of values. Got the "
                    f"unknown setting {name!r}."
                )
            if isinstance(grid_values, (str, bytes, dict)) or not hasattr(
                grid_values, "__iter__"
            ):
                raise ValueError(
                    f"The {grid_name!r} parameter of {caller} must give a list of "
                    f"values for {name!r}. Got {grid_values!r} instead."
                )
            checked = [_check_setting(name, value, caller) for value in grid_values]
            if not checked or len(set(checked)) != len(checked):
                raise ValueError(
                    f"The {grid_name!r} parameter of {caller} must give a non-empty "
                    f"list of distinct values for {name!r}. Got {checked}."
                )
            grid[name] = checked
        return grid

    def open_results(self, results_file, *, overwrite=False):
        """Open the results file before any work, reading records already there."""
        results = _ResultsFile(
            results_file, self.description, caller=self.caller, overwrite=overwrite
        )
        expected = {task.key for task in self.tasks}
        stray = [key for key in results.records if key not in expected]
        if stray:
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
        grid_names = list(self.grid)
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
            )(delayed(_run_task)(task) for task in pending)
            try:
                for record in outputs:
                    records[_record_key(record)] = record
                    if results is not None:
                        results.append(record)
                    progress.update()
                    if verbose >= 2:
                        progress.write(_record_line(record, grid_names, self.caller))
            finally:
                # On an error or KeyboardInterrupt, cancel the tasks not started.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    outputs.close()
        ordered = [records[task.key] for task in self.tasks]
        if results is not None:
            results.finish(ordered)
        return ordered


def _record_line(record, grid_names, caller):
    settings = " ".join(f"{name}={record[name]}" for name in grid_names)
    return (
        f"[{caller}] {settings} repeat={record['repeat']} {record['estimator']}: "
        f"{record['mean_test_score']:.3f} +- {record['std_test_score']:.3f} "
        f"(fit {record['mean_fit_time']:.2f} s, Bayes {record['bayes_accuracy']:.3f})"
    )


def _check_n_jobs(n_jobs, caller):
    if n_jobs == 0:
        raise ValueError(
            f"The 'n_jobs' parameter of {caller} must be a nonzero int (-1 for all "
            "processors) or None. Got 0 instead."
        )


# Checked by validate_parameter_constraints at the top of geneperm_study rather than
# by the @validate_params decorator, which would rename the parameter errors raised
# by the estimators' own fits ("The 'C' parameter of geneperm_study must be ...").
_STUDY_CONSTRAINTS = {
    "estimators": [dict, list],
    "param_grid": [dict],
    "n_repeats": [Interval(Integral, 1, None, closed="left")],
    "cv": "no_validation",  # checked by _check_cv, with its own message
    "test_size": [Interval(Integral, 1, None, closed="left")],
    "scoring": [str, callable],
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

    n_jobs : int, default=None
        The number of tasks to run in parallel, through joblib: ``None`` means 1
        unless in a :func:`joblib.parallel_config` context, and ``-1`` all
        processors. Inside ``joblib.parallel_config(backend="dask")`` with a
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
        record, readable by :func:`pandas.read_csv` (``test_scores`` is a JSON
        list). The study's description is written beside it, as
        ``<results_file>.json``. Calling again with the same arguments and file
        resumes: records already in the file are not computed again, a line cut
        short by a killed run is dropped, and the finished file holds the rows in
        the order of the returned records, as an uninterrupted run writes it. A
        file written by a different study is an error.

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
        ``chance_accuracy`` and ``test_scores`` (the fold scores, or the one test
        score).

    Raises
    ------
    ValueError
        Before any data are drawn, for an invalid grid, a training size too small
        for the classes or folds (a draw must lack samples of a class with
        probability at most 1e-6), or a results file of another study.

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
        _STUDY_CONSTRAINTS,
        {
            "estimators": estimators,
            "param_grid": param_grid,
            "n_repeats": n_repeats,
            "cv": cv,
            "test_size": test_size,
            "scoring": scoring,
            "n_jobs": n_jobs,
            "random_state": random_state,
            "results_file": results_file,
            "verbose": verbose,
        },
        caller_name="geneperm_study",
    )
    _check_n_jobs(n_jobs, "geneperm_study")
    study = _Study(
        estimators,
        param_grid,
        n_repeats=n_repeats,
        cv=cv,
        test_size=test_size,
        scoring=scoring,
        random_state=random_state,
        generator_params=generator_params,
        caller="geneperm_study",
        results_file=results_file,
    )
    results = None if results_file is None else study.open_results(results_file)
    return study.run(n_jobs=n_jobs, results=results, verbose=verbose)

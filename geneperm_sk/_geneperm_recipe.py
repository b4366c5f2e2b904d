"""The Gene-Perm recipe of a study: generator settings, their checks, the seeds
of each grid point and repeat, and the draw made where a task runs.

A recipe carries a few numbers instead of data; :class:`GenePermRecipe` makes its
data in :meth:`~GenePermRecipe.folds` wherever the task runs. Another source of
data (a named data set and its cross-validation folds) is another recipe class
with the same members, and a planning function like :func:`geneperm_recipes`.
"""

import hashlib
import inspect
import itertools
import json
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy.stats import binom
from sklearn.base import clone
from sklearn.model_selection import check_cv
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ._generator import bayes_accuracy, check_table_settings, make_geneperm

__all__ = ["GENERATOR_SETTINGS", "SETTING_TYPES", "GenePermRecipe", "geneperm_recipes"]

GENERATOR_SETTINGS = (
    "block_size",
    "n_columns",
    "n_table_rows",
    "n_samples",
    "positive_fraction",
)
SETTING_TYPES = {name: int for name in GENERATOR_SETTINGS} | {
    "positive_fraction": float
}

_SETTING_CONSTRAINTS = {
    "block_size": Interval(Integral, 1, None, closed="left"),
    "n_columns": Interval(Integral, 2, None, closed="left"),
    "n_table_rows": Interval(Integral, 1, None, closed="left"),
    "n_samples": Interval(Integral, 1, None, closed="left"),
    "positive_fraction": Interval(Real, 0, 1, closed="both"),
}
_GENERATOR_DEFAULTS = {
    name: SETTING_TYPES[name](inspect.signature(make_geneperm).parameters[name].default)
    for name in GENERATOR_SETTINGS
}

# A grid point is refused when a draw of its training set would hold fewer samples
# of a class than the folds need with at least this probability.
_MAX_MISSING_CLASS_PROBABILITY = 1e-6
# The largest training size searched for when naming the smallest one that works.
_LARGEST_SEARCHED = 2**62


# Estimators that read blocks ------------------------------------------------


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
    return SETTING_TYPES[name](value)


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
    of one of the two classes (an upper bound: the sum over both classes, at most
    1). Exact for any size: scipy takes the number of draws as a float."""
    n_samples = float(n_samples)
    return min(
        1.0,
        float(
            binom.cdf(per_class - 1, n_samples, positive_fraction)
            + binom.cdf(per_class - 1, n_samples, 1 - positive_fraction)
        ),
    )


def _smallest_training_size(positive_fraction, per_class):
    """The smallest ``n_samples`` whose draws lack ``per_class`` samples of a class
    with probability at most the allowed one, or None if none up to 2**62 does.

    The probability falls as ``n_samples`` grows: a doubling search, then a
    bisection, about 120 evaluations at most.
    """

    def enough(n_samples):
        return (
            _missing_class_probability(n_samples, positive_fraction, per_class)
            <= _MAX_MISSING_CLASS_PROBABILITY
        )

    high = 2 * per_class
    while not enough(high):
        if high >= _LARGEST_SEARCHED:
            return None
        high *= 2
    low = high // 2  # not enough, or below the 2 * per_class samples needed
    while high - low > 1:
        middle = (low + high) // 2
        if enough(middle):
            high = middle
        else:
            low = middle
    return max(high, 2 * per_class)


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
    smallest = _smallest_training_size(positive_fraction, per_class)
    if smallest is None:
        raise ValueError(
            f"The 'positive_fraction' setting of {caller} is too far from 0.5: "
            f"{reason} every draw needs at least {per_class} samples of each class, "
            f"and with positive_fraction={positive_fraction} no n_samples up to "
            f"2**62 gives them with probability at least "
            f"1 - {_MAX_MISSING_CLASS_PROBABILITY:g}. Use a positive_fraction "
            "nearer 0.5."
        )
    if n_samples < 2 * per_class:
        chance = (
            f"n_samples={n_samples} cannot hold the {2 * per_class} samples this takes"
        )
    else:
        chance = (
            f"with n_samples={n_samples} and positive_fraction={positive_fraction} "
            f"a draw lacks them with probability {probability:.2g} (at most "
            f"{_MAX_MISSING_CLASS_PROBABILITY:g} is allowed)"
        )
    raise ValueError(
        f"The 'n_samples' setting of {caller} is too small: {reason} every draw "
        f"needs at least {per_class} samples of each class, and {chance}. Use "
        f"n_samples >= {smallest}."
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
    fields = {key: settings[key] for key in GENERATOR_SETTINGS}
    return spawn_seeds(entropy, fields, repeat, 2)


def spawn_seeds(entropy, fields, repeat, n_seeds):
    """``n_seeds`` int seeds of the data named by ``fields`` (a JSON-ready dict)
    and ``repeat``: a :class:`numpy.random.SeedSequence` with the study's entropy
    and a spawn key made of a SHA-256 of the fields and the repeat number, so that
    the seeds do not depend on the other data of the study."""
    digest = hashlib.sha256(json.dumps(fields).encode()).digest()
    spawn_key = (*np.frombuffer(digest[:16], dtype="<u4").tolist(), repeat)
    sequence = np.random.SeedSequence(entropy, spawn_key=spawn_key)
    return tuple(int(seed) for seed in sequence.generate_state(n_seeds))


def _check_grid(param_grid, grid_name, caller):
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


def _check_data_size(recipe, caller):
    """Refuse data no machine can hold, by arithmetic, before any work."""
    size = recipe.data_bytes()
    if size > np.iinfo(np.intp).max:
        fields = ", ".join(f"{name}={value}" for name, value in recipe.fields.items())
        raise ValueError(
            f"The settings of {caller} ask for data no machine can hold: with "
            f"{fields} a task draws about {size:.3g} bytes, more than the "
            f"{np.iinfo(np.intp).max:.3g} numpy can address. Use fewer samples, "
            "table rows or columns."
        )


# Recipes: where a task's data come from ------------------------------------------


@dataclass(frozen=True)
class GenePermRecipe:
    """The data of a task: a Gene-Perm draw, made where the task runs.

    A recipe is what a task carries instead of its data: a few numbers, whatever
    the size of the data. Another kind of data (a named data set and its folds)
    is another class with the same members.

    Attributes
    ----------
    settings : tuple
        The values of ``GENERATOR_SETTINGS``, in that order.
    data_seed, test_seed : int
        The seeds of the training draw and of the fresh test draw.
    cv : None, int or splitter
        None: score on ``test_size`` fresh samples; otherwise folds of the draw.
    test_size : int
        The number of fresh test samples when ``cv`` is None.
    """

    #: The record's columns that say which data a record is about, and their types.
    FIELD_TYPES = SETTING_TYPES
    #: The record's columns that :meth:`reference` fills.
    REFERENCE_FIELDS = ("bayes_accuracy", "chance_accuracy")

    settings: tuple
    data_seed: int
    test_seed: int
    cv: object
    test_size: int

    @property
    def fields(self):
        """The settings, by name: the record's columns about the data."""
        return dict(zip(GENERATOR_SETTINGS, self.settings, strict=True))

    def prepare(self, estimator):
        """A clone of ``estimator`` ready for these data (rows of n_columns)."""
        return _with_row_layout(estimator, self.fields["n_columns"])

    def folds(self):
        """Draw the data; yield (X_train, y_train, X_test, y_test) per fold."""
        settings = self.fields
        generator_params = {
            "block_size": settings["block_size"],
            "positive_fraction": settings["positive_fraction"],
        }
        X, y, table = make_geneperm(
            settings["n_samples"],
            n_columns=settings["n_columns"],
            n_table_rows=settings["n_table_rows"],
            return_table=True,
            random_state=self.data_seed,
            **generator_params,
        )
        if self.cv is None:
            X_test, y_test = make_geneperm(
                self.test_size,
                table=table,
                random_state=self.test_seed,
                **generator_params,
            )
            del table
            yield X, y, X_test, y_test
            return
        del table
        splitter = check_cv(self.cv, y, classifier=True)
        for train, test in splitter.split(X, y):
            yield X[train], y[train], X[test], y[test]

    def reference(self):
        """The accuracies a score is read against: Bayes-optimal and chance."""
        fraction = self.fields["positive_fraction"]
        return {
            "bayes_accuracy": bayes_accuracy(self.fields["block_size"], fraction),
            "chance_accuracy": max(fraction, 1.0 - fraction),
        }

    def data_bytes(self):
        """Bytes a task holds at once: the table as int8 and as float32, and the
        training (and with ``cv=None`` test) samples as float32."""
        settings = self.fields
        row_bytes = settings["n_columns"] * (1 + 4)
        sample_bytes = settings["block_size"] * settings["n_columns"] * 4
        n_drawn = settings["n_samples"] + (self.test_size if self.cv is None else 0)
        return settings["n_table_rows"] * row_bytes + n_drawn * sample_bytes


def geneperm_recipes(
    param_grid,
    *,
    n_repeats,
    cv,
    test_size,
    random_state,
    generator_params,
    caller,
    grid_name="param_grid",
    results_file=None,
):
    """Check a Gene-Perm grid and return its recipes and their description.

    Parameters are those of :func:`~geneperm_sk.geneperm_study`, with the fixed
    generator settings as one dict; ``caller`` and ``grid_name`` name the public
    function and its grid parameter in messages, and ``results_file`` is passed
    only to require an int ``random_state`` with it.

    Returns
    -------
    recipes : list of (GenePermRecipe, int)
        Each grid point's recipe and repeat number, points in the order of the
        grid (the first setting varying slowest), repeats within points.

    description : dict
        What the recipes were made from: settings, repeats, folds and seed.
    """
    unknown = set(generator_params) - set(GENERATOR_SETTINGS)
    if unknown:
        raise TypeError(
            f"{caller} passes only make_geneperm's settings "
            f"{GENERATOR_SETTINGS} on to it; got the unexpected {sorted(unknown)}."
        )
    grid = _check_grid(param_grid, grid_name, caller)
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
    per_class, reason = _check_cv(cv, caller)

    values = {
        name: grid.get(name, [fixed.get(name, _GENERATOR_DEFAULTS[name])])
        for name in GENERATOR_SETTINGS
    }
    points = []
    for combination in itertools.product(*grid.values()):
        settings = {**_GENERATOR_DEFAULTS, **fixed}
        settings.update(zip(grid, combination, strict=True))
        settings = {name: settings[name] for name in GENERATOR_SETTINGS}
        _check_point(settings, caller)
        points.append(settings)
    for n_samples, positive_fraction in sorted(
        {(point["n_samples"], point["positive_fraction"]) for point in points}
    ):
        _check_class_counts(n_samples, positive_fraction, per_class, reason, caller)

    entropy = _study_entropy(random_state, caller, results_file)
    recipes = []
    for settings in points:
        for repeat in range(n_repeats):
            data_seed, test_seed = _point_seeds(entropy, settings, repeat)
            recipe = GenePermRecipe(
                settings=tuple(settings.values()),
                data_seed=data_seed,
                test_seed=test_seed,
                cv=cv,
                test_size=test_size,
            )
            if repeat == 0:
                _check_data_size(recipe, caller)
            recipes.append((recipe, repeat))
    description = {
        "settings": {name: sorted(values[name]) for name in GENERATOR_SETTINGS},
        "n_repeats": n_repeats,
        "cv": cv,
        "test_size": test_size if cv is None else None,
        "random_state": entropy,
    }
    return recipes, description

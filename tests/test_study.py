import io
import itertools
import json
import math
import os
import pickle
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from random import Random

import distributed
import joblib
import numpy as np
import pandas
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import NearestCentroid
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import geneperm_sk._geneperm_recipe as recipe_module
import geneperm_sk._study as study_module
from geneperm_sk import AbsMeanClassifier, bayes_accuracy, geneperm_study
from geneperm_sk._geneperm_recipe import (
    _MAX_MISSING_CLASS_PROBABILITY,
    GENERATOR_SETTINGS,
    _missing_class_probability,
    _point_seeds,
    _with_row_layout,
)
from geneperm_sk._results_file import RecordSchema, ResultsFile, describe_differences
from geneperm_sk._study import RECORD_FIELDS, plan_study

ROOT = Path(__file__).resolve().parents[1]
SMALL = dict(n_columns=6, n_table_rows=50, test_size=400, random_state=0)


class CountingClassifier(ClassifierMixin, BaseEstimator):
    """Predicts the majority class of its training data. Counts its fits across
    clones, and raises KeyboardInterrupt once ``budget`` fits have been made."""

    fits = 0
    finished = 0
    attempts = 0
    budget = None
    lock = threading.Lock()

    def __init__(self, sleep=0.0, slow_width=None):
        self.sleep = sleep
        self.slow_width = slow_width

    def fit(self, X, y):
        cls = type(self)
        with cls.lock:
            cls.attempts += 1
            over_budget = cls.budget is not None and cls.fits >= cls.budget
            if not over_budget:
                cls.fits += 1
        if over_budget:
            time.sleep(self.sleep)  # as long as a fit: Ctrl-C comes at any time
            raise KeyboardInterrupt
        time.sleep(0.3 if X.shape[1] == self.slow_width else self.sleep)
        with cls.lock:
            cls.finished += 1
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[np.argmax(counts)]
        return self

    def predict(self, X):
        return np.full(len(X), self.majority_)


class BlockReader(ClassifierMixin, BaseEstimator):
    """An estimator that reads blocks of rows, known to the study only by its
    ``block_size`` and ``n_columns`` parameters."""

    def __init__(self, block_size=3, n_columns=None):
        self.block_size = block_size
        self.n_columns = n_columns

    def fit(self, X, y):
        assert self.block_size is None and X.shape[1] % self.n_columns == 0
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


@pytest.fixture(autouse=True)
def reset_counts():
    CountingClassifier.fits, CountingClassifier.budget = 0, None
    CountingClassifier.finished = CountingClassifier.attempts = 0
    yield
    CountingClassifier.fits, CountingClassifier.budget = 0, None


def without_fit_time(records):
    return [{k: v for k, v in r.items() if k != "mean_fit_time"} for r in records]


def test_one_record_per_point_repeat_and_estimator_in_order():
    estimators = {"centroid": NearestCentroid(), "dummy": DummyClassifier()}
    grid = {"block_size": [1, 2], "n_samples": [60, 120]}
    records = geneperm_study(estimators, grid, n_repeats=2, **SMALL)
    assert [
        (r["block_size"], r["n_samples"], r["repeat"], r["estimator"]) for r in records
    ] == list(itertools.product([1, 2], [60, 120], [0, 1], ["centroid", "dummy"]))
    for record in records:
        assert list(record) == list(RECORD_FIELDS)
        assert (record["n_columns"], record["n_table_rows"]) == (6, 50)
        assert record["positive_fraction"] == 0.5
        assert record["bayes_accuracy"] == bayes_accuracy(record["block_size"])
        assert record["chance_accuracy"] == 0.5
        (score,) = record["test_scores"]
        assert record["mean_test_score"] == score and record["std_test_score"] == 0
        # Scored on test_size fresh samples.
        assert score * 400 == pytest.approx(round(score * 400))
        assert record["mean_fit_time"] > 0


def test_cross_validation_gives_fold_scores():
    records = geneperm_study(
        {"centroid": NearestCentroid()}, {"n_samples": [90]}, cv=3, **SMALL
    )
    (record,) = records
    assert len(record["test_scores"]) == 3
    assert record["mean_test_score"] == pytest.approx(np.mean(record["test_scores"]))
    assert record["std_test_score"] == pytest.approx(np.std(record["test_scores"]))


def test_all_estimators_see_the_same_draws():
    records = geneperm_study(
        {"a": NearestCentroid(), "b": NearestCentroid()},
        {"block_size": [1, 2]},
        n_repeats=2,
        n_samples=200,
        **SMALL,
    )
    for first, second in zip(records[::2], records[1::2], strict=True):
        assert first["test_scores"] == second["test_scores"]


def test_a_points_data_do_not_depend_on_the_other_points():
    estimators = {"centroid": NearestCentroid()}
    settings = dict(n_repeats=2, n_samples=200, **SMALL)
    alone = geneperm_study(estimators, {"block_size": [2]}, **settings)
    among = geneperm_study(estimators, {"block_size": [1, 2, 4]}, **settings)
    assert without_fit_time(alone) == without_fit_time(among[2:4])
    # Repeats and seeds draw different data.
    assert alone[0]["test_scores"] != alone[1]["test_scores"]
    other = geneperm_study(
        estimators, {"block_size": [2]}, **{**settings, "random_state": 1}
    )
    assert other[0]["test_scores"] != alone[0]["test_scores"]


def test_seeds_come_from_a_stable_digest_of_the_settings():
    # Pinned: Python's salted hash() would change them from one process to the next.
    settings = dict(recipe_module._GENERATOR_DEFAULTS)
    assert _point_seeds(0, settings, 0) == (1953411513, 4707442)
    assert _point_seeds(0, settings, 1) == (1820253076, 3246566591)

    def seeds(grid):
        study = plan_study(
            {"d": DummyClassifier()},
            grid,
            n_repeats=1,
            cv=None,
            test_size=10,
            scoring="accuracy",
            error_score="raise",
            random_state=0,
            generator_params={},
            caller="geneperm_study",
        )
        return [(t.recipe.data_seed, t.recipe.test_seed) for t in study.tasks]

    # Equal settings of other numeric types give the same seeds.
    numpy_typed = {"block_size": [np.int64(4)], "positive_fraction": [np.float32(0.5)]}
    assert seeds(numpy_typed) == seeds({"block_size": [4]}) == [(1953411513, 4707442)]


def test_same_records_whatever_n_jobs():
    estimators = {"centroid": NearestCentroid(), "dummy": DummyClassifier()}
    grid = {"block_size": [1, 2], "n_samples": [60, 120]}
    sequential = geneperm_study(estimators, grid, n_repeats=2, **SMALL)
    with joblib.parallel_config(backend="threading"):
        parallel = geneperm_study(estimators, grid, n_repeats=2, n_jobs=2, **SMALL)
    assert without_fit_time(parallel) == without_fit_time(sequential)


def test_a_task_carries_a_recipe_whose_size_does_not_grow_with_n_samples():
    tracemalloc.start()
    study = plan_study(
        {"centroid": NearestCentroid()},
        {"n_samples": [100, 10**9]},
        n_repeats=1,
        cv=None,
        test_size=10**9,
        scoring="accuracy",
        error_score="raise",
        random_state=0,
        generator_params={"block_size": 16, "n_columns": 64},
        caller="geneperm_study",
    )
    _, planning_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    small, huge = (len(pickle.dumps(task)) for task in study.tasks)
    assert abs(huge - small) <= 8
    assert small < 5_000
    assert planning_peak < 1_000_000  # nothing of the 4 TB of data is drawn


def test_a_dask_cluster_gives_the_same_records_and_the_caller_holds_no_data():
    estimators = {"centroid": NearestCentroid()}
    grid = {"n_samples": [20_000]}
    settings = dict(
        n_repeats=3, block_size=8, n_columns=32, test_size=20_000, random_state=0
    )
    # Each task draws 40,000 blocks of 8 x 32 float32 values: 41 MB.
    data_bytes = 40_000 * 8 * 32 * 4

    tracemalloc.start()
    sequential = geneperm_study(estimators, grid, **settings)
    _, sequential_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert sequential_peak > data_bytes

    with (
        # One worker process, two threads: it imports torch only once.
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_config(backend="dask"),
    ):
        tracemalloc.start()
        on_dask = geneperm_study(estimators, grid, **settings)
        _, dask_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert without_fit_time(on_dask) == without_fit_time(sequential)
    assert dask_peak < data_bytes / 10


def test_block_readers_are_told_the_number_of_columns_by_duck_typing():
    absmean = AbsMeanClassifier(block_size=5)
    nested = CalibratedClassifierCV(
        make_pipeline(StandardScaler(), BlockReader()), cv=2
    )
    for estimator, get in [
        (absmean, lambda e: e),
        (BlockReader(), lambda e: e),
        (make_pipeline(StandardScaler(), absmean), lambda e: e[-1]),
        (nested, lambda e: e.estimator[-1]),
    ]:
        laid_out = _with_row_layout(estimator, 8)
        assert laid_out is not estimator
        assert get(laid_out).get_params()["n_columns"] == 8
        assert get(laid_out).get_params()["block_size"] is None
        assert get(estimator).get_params()["block_size"] in (5, 3)  # unchanged
    logistic = _with_row_layout(LogisticRegression(C=2.0), 8)
    assert logistic.get_params() == LogisticRegression(C=2.0).get_params()

    records = geneperm_study(
        {"nested": nested}, {"block_size": [1, 3]}, n_samples=100, **SMALL
    )
    assert len(records) == 2


def test_absmean_reaches_the_ceiling_on_fresh_test_data_where_logistic_sits_at_chance():
    block_size, test_size = 4, 4000
    records = geneperm_study(
        {
            "AbsMean": AbsMeanClassifier(random_state=0),
            "LogisticRegression": LogisticRegression(),
        },
        {"block_size": [block_size]},
        n_samples=1000,
        test_size=test_size,
        n_columns=10,
        random_state=0,
    )
    scores = {r["estimator"]: r["mean_test_score"] for r in records}
    ceiling = bayes_accuracy(block_size)
    # Four standard errors of an accuracy measured on test_size samples.
    assert scores["AbsMean"] > ceiling - 4 * math.sqrt(
        ceiling * (1 - ceiling) / test_size
    )
    assert abs(scores["LogisticRegression"] - 0.5) < 4 * math.sqrt(0.25 / test_size)


# The results file ---------------------------------------------------------------


def study_into(path, **params):
    settings = dict(
        estimators={"counting": CountingClassifier()},
        param_grid={"block_size": [1, 2], "n_samples": [40, 80]},
        n_repeats=2,
        results_file=path,
        **SMALL,
    )
    settings.update(params)
    return geneperm_study(**settings)


def read_frame(path):
    # pandas before 3 parses floats by default in a fast way that can lose the
    # last digit; pandas 3 parses them exactly and deprecates the option.
    if int(pandas.__version__.split(".")[0]) >= 3:
        return pandas.read_csv(path)
    return pandas.read_csv(path, float_precision="round_trip")


def test_results_file_is_a_csv_of_the_records(tmp_path):
    path = tmp_path / "study.csv"
    records = study_into(path)
    frame = read_frame(path)
    assert list(frame.columns) == list(RECORD_FIELDS)
    assert len(frame) == len(records) == 8
    for record, row in zip(records, frame.to_dict("records"), strict=True):
        expected = {**record, "test_scores": json.dumps(record["test_scores"])}
        assert expected.pop("error") is None
        assert math.isnan(row.pop("error"))  # an empty cell
        assert row == expected
    description = json.loads((tmp_path / "study.csv.json").read_text())
    assert description["study"]["n_repeats"] == 2
    assert description["study"]["settings"]["block_size"] == [1, 2]


def test_results_files_get_the_mode_of_any_new_file(tmp_path):
    path = tmp_path / "study.csv"
    study_into(path)
    (tmp_path / "plain.txt").write_text("")
    expected = (tmp_path / "plain.txt").stat().st_mode & 0o777
    assert path.stat().st_mode & 0o777 == expected
    assert (tmp_path / "study.csv.json").stat().st_mode & 0o777 == expected


def test_an_interrupted_study_resumes_to_the_file_of_an_uninterrupted_one(tmp_path):
    uninterrupted = study_into(tmp_path / "whole.csv")
    path = tmp_path / "study.csv"
    CountingClassifier.fits, CountingClassifier.budget = 0, 3
    with pytest.raises(KeyboardInterrupt):
        study_into(path)
    assert len(read_frame(path)) == 3  # each record was written when finished

    CountingClassifier.fits, CountingClassifier.budget = 0, None
    resumed = study_into(path)
    assert CountingClassifier.fits == 8 - 3
    assert without_fit_time(resumed) == without_fit_time(uninterrupted)
    whole, final = read_frame(tmp_path / "whole.csv"), read_frame(path)
    columns = [name for name in RECORD_FIELDS if name != "mean_fit_time"]
    assert final[columns].equals(whole[columns])


class InterruptedBookkeeping(list):
    """A list whose append is interrupted, as by a Ctrl-C landing there."""

    def append(self, item):
        raise KeyboardInterrupt


def test_the_count_of_saved_records_is_that_of_the_file(tmp_path):
    # Ctrl-C can land after a record's line is written and before any count
    # kept beside the writes is raised; the interrupted command prints the
    # count, which must be that of the lines in the file.
    schema = RecordSchema(fields=(("name", str), ("value", float)), key=("name",))
    path = tmp_path / "records.csv"
    with ResultsFile(path, {"kind": "test"}, schema=schema, caller="test") as results:
        results.append({"name": "a\nb", "value": 1.0})  # a row of two lines
        results.order = InterruptedBookkeeping(results.order)
        with pytest.raises(KeyboardInterrupt):
            results.append({"name": "c", "value": 2.0})
        assert path.read_text().splitlines()[1:] == ['"a', 'b",1.0', "c,2.0"]
        assert results.n_records == 2
        path.unlink()
        assert results.n_records == 0


def test_a_finished_study_is_not_computed_again(tmp_path):
    path = tmp_path / "study.csv"
    first = study_into(path)
    content = path.read_bytes()
    CountingClassifier.fits = 0
    assert study_into(path) == first
    assert CountingClassifier.fits == 0
    assert path.read_bytes() == content


def test_a_line_cut_short_by_a_killed_run_is_dropped(tmp_path):
    path = tmp_path / "study.csv"
    first = study_into(path)
    content = path.read_bytes()
    path.write_bytes(content[: content.rfind(b"\n", 0, -1) + 10])
    CountingClassifier.fits = 0
    resumed = study_into(path)
    assert CountingClassifier.fits == 1
    assert without_fit_time(resumed) == without_fit_time(first)
    assert len(read_frame(path)) == 8


def test_rows_end_in_task_order_after_a_parallel_run(tmp_path):
    path = tmp_path / "study.csv"
    # The first task (blocks of one row of 6 columns) finishes last.
    with joblib.parallel_config(backend="threading"):
        records = study_into(
            path,
            estimators={"counting": CountingClassifier(slow_width=6)},
            param_grid={"block_size": [1, 2]},
            n_repeats=1,
            n_samples=40,
            n_jobs=2,
        )
    assert list(read_frame(path)["block_size"]) == [r["block_size"] for r in records]
    assert [r["block_size"] for r in records] == [1, 2]


@pytest.mark.parametrize(
    "change, difference",
    [
        ({"n_repeats": 3}, "n_repeats"),
        ({"param_grid": {"block_size": [1, 2, 4], "n_samples": [40, 80]}}, "settings"),
        ({"estimators": {"counting": CountingClassifier(sleep=0.01)}}, "estimators"),
        ({"random_state": 1}, "random_state"),
        ({"test_size": 500}, "test_size"),
        ({"n_columns": 8}, "settings"),
    ],
)
def test_a_file_of_a_different_study_is_an_error(tmp_path, change, difference):
    path = tmp_path / "study.csv"
    study_into(path)
    content = path.read_bytes()
    CountingClassifier.fits = 0
    with pytest.raises(
        ValueError, match=f"different study, which differs in {difference}"
    ):
        study_into(path, **change)
    assert CountingClassifier.fits == 0
    assert path.read_bytes() == content


def test_files_not_written_by_a_study_are_errors(tmp_path):
    foreign = tmp_path / "foreign.csv"
    foreign.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="does not exist; the file was not written"):
        study_into(foreign)
    assert foreign.read_text() == "a,b\n1,2\n"

    path = tmp_path / "study.csv"
    study_into(path)
    with open(path, "a") as file:
        file.write("counting,1,6,50,40,0.5,7,oops,0,0,0.75,0.5,[],\n")
    with pytest.raises(ValueError, match="Line 10 of the results_file"):
        study_into(path)

    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(ValueError, match="must name a file"):
        study_into(tmp_path / "folder.csv")
    with pytest.raises(ValueError, match="must be in an existing folder"):
        study_into(tmp_path / "missing" / "study.csv")


def test_a_results_file_needs_an_int_random_state(tmp_path):
    with pytest.raises(ValueError, match="'random_state' parameter .* must be an int"):
        study_into(tmp_path / "study.csv", random_state=None)
    assert not (tmp_path / "study.csv").exists()


# Interrupts ----------------------------------------------------------------------


def join_task_threads(before, timeout=30):
    """Wait for the threads started since ``before`` to end (tqdm's monitor
    thread, which lives with the process, aside).

    A task still running in a thread after an interrupt runs inside scikit-learn's
    ``warnings.catch_warnings`` (``sklearn.utils.parallel.delayed``), which is not
    thread-safe before Python 3.14: leaving it after a later test has started
    would put back the warning filters it saved and lose that test's
    ``pytest.warns``.
    """
    deadline = time.monotonic() + timeout
    for thread in set(threading.enumerate()) - before:
        if thread.name != "tqdm_monitor":
            thread.join(max(deadline - time.monotonic(), 0))
            assert not thread.is_alive(), f"{thread.name} still runs"


def test_keyboard_interrupt_stops_a_parallel_study_promptly(tmp_path):
    threads_before = set(threading.enumerate())
    CountingClassifier.budget = 5
    with joblib.parallel_config(backend="threading"):
        with pytest.raises(KeyboardInterrupt):
            geneperm_study(
                {"slow": CountingClassifier(sleep=0.3)},
                {"n_samples": [40]},
                n_repeats=20,
                n_jobs=2,
                results_file=tmp_path / "study.csv",
                **SMALL,
            )
    # The interrupt came at the sixth fit, and the remaining tasks never start:
    # once the fits running then are finished, no more fits were made, and the
    # tasks tried while the interrupt reached the caller are few of the 20.
    deadline = time.monotonic() + 30
    while CountingClassifier.finished < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert CountingClassifier.fits == CountingClassifier.finished == 5
    assert 6 <= CountingClassifier.attempts < 20
    # The records of the fits finished before the interrupt were saved at once.
    assert 1 <= len(read_frame(tmp_path / "study.csv")) <= 5
    join_task_threads(threads_before)


# Checks before any work ----------------------------------------------------------


@pytest.mark.parametrize(
    "estimators, grid, params, error, match",
    [
        ({}, {"block_size": [1]}, {}, ValueError, "at least one estimator"),
        (
            {"r": LinearRegression()},
            {"block_size": [1]},
            {},
            ValueError,
            "'estimators' parameter of geneperm_study must hold scikit-learn "
            r"classifier instances. Got LinearRegression\(\) \(a regressor\) under "
            "the name 'r'",
        ),
        ({"s": "svm"}, {}, {}, ValueError, r"Got 'svm' \(a str\) under the name 's'"),
        ({"c": LogisticRegression}, {}, {}, ValueError, "a class, not an instance"),
        ({"t": StandardScaler()}, {}, {}, ValueError, "an estimator that is not a"),
        ({1: DummyClassifier()}, {}, {}, ValueError, "non-empty str. Got the name 1"),
        ({"d": DummyClassifier()}, {"dtype": [1]}, {}, ValueError, "unknown setting"),
        ({"d": DummyClassifier()}, {"block_size": 4}, {}, ValueError, "list of values"),
        ({"d": DummyClassifier()}, {"block_size": []}, {}, ValueError, "non-empty"),
        ({"d": DummyClassifier()}, {"block_size": [2, 2]}, {}, ValueError, "distinct"),
        (
            {"d": DummyClassifier()},
            {"block_size": [1, 0]},
            {},
            ValueError,
            r"'block_size' setting of geneperm_study must be an int in the range "
            r"\[1, inf\). Got 0 instead",
        ),
        ({"d": DummyClassifier()}, {"block_size": [True]}, {}, ValueError, "Got True"),
        ({"d": DummyClassifier()}, {"n_columns": [4, 3]}, {}, ValueError, "even"),
        (
            {"d": DummyClassifier()},
            {"block_size": [4]},
            {"n_table_rows": 2},
            ValueError,
            "at most n_table_rows=2",
        ),
        (
            {"d": DummyClassifier()},
            {"positive_fraction": [0.5, 1.5]},
            {},
            ValueError,
            "'positive_fraction' setting",
        ),
        (
            {"d": DummyClassifier()},
            {"positive_fraction": [0.0]},
            {},
            ValueError,
            "strictly between 0 and 1",
        ),
        (
            {"d": DummyClassifier()},
            {"n_samples": [20, 200]},
            {"cv": 5},
            ValueError,
            "'n_samples' setting of geneperm_study is too small: for 5 stratified",
        ),
        (
            {"d": DummyClassifier()},
            {"n_samples": [5]},
            {},
            ValueError,
            "too small: to fit on both classes",
        ),
        (
            {"d": DummyClassifier()},
            {"block_size": [1]},
            {"block_size": 2},
            ValueError,
            "do not also pass block_size=2",
        ),
        ({"d": DummyClassifier()}, {}, {"flatten": False}, TypeError, "unexpected"),
        ({"d": DummyClassifier()}, {}, {"cv": 1}, ValueError, "'cv' parameter"),
        ({"d": DummyClassifier()}, {}, {"cv": [([0], [1])]}, ValueError, "'cv'"),
        ({"d": DummyClassifier()}, {}, {"scoring": "acuracy"}, ValueError, "acuracy"),
        ({"d": DummyClassifier()}, {}, {"n_jobs": 0}, ValueError, "'n_jobs'"),
        ({"d": DummyClassifier()}, [("block_size", [1])], {}, ValueError, "param_grid"),
        ({"d": DummyClassifier()}, {}, {"n_repeats": 0}, ValueError, "n_repeats"),
    ],
)
def test_invalid_input_is_an_error_before_any_data_are_drawn(
    estimators, grid, params, error, match, monkeypatch
):
    def no_drawing(*args, **kwargs):
        raise AssertionError("data drawn before the arguments were checked")

    monkeypatch.setattr(recipe_module, "make_geneperm", no_drawing)
    with pytest.raises(error, match=match):
        geneperm_study(estimators, grid, random_state=0, **params)


def test_the_smallest_training_size_is_the_one_named():
    with pytest.raises(ValueError, match=r"Use n_samples >= (\d+)") as info:
        geneperm_study({"d": DummyClassifier()}, {"n_samples": [20]}, cv=5)
    smallest = int(str(info.value).rsplit(">= ", 1)[1].rstrip("."))
    assert _missing_class_probability(smallest, 0.5, 5) <= (
        _MAX_MISSING_CLASS_PROBABILITY
    )
    assert _missing_class_probability(smallest - 1, 0.5, 5) > (
        _MAX_MISSING_CLASS_PROBABILITY
    )
    geneperm_study({"d": DummyClassifier()}, {"n_samples": [smallest]}, cv=5)


def test_verbose_shows_progress_and_records(capsys):
    study = dict(
        estimators={"dummy": DummyClassifier()},
        param_grid={"block_size": [1, 2]},
        n_samples=40,
        **SMALL,
    )
    geneperm_study(**study)
    assert capsys.readouterr() == ("", "")
    geneperm_study(**study, verbose=1)
    captured = capsys.readouterr()
    assert captured.out == "" and "geneperm_study: 100%" in captured.err
    assert "2/2" in captured.err
    geneperm_study(**study, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[geneperm_study] block_size=1 repeat=0 dummy: 0.")


def test_every_generator_setting_can_be_a_grid_axis():
    records = geneperm_study(
        {"dummy": DummyClassifier()},
        {"positive_fraction": [0.25, 0.5], "n_table_rows": [10, 100]},
        block_size=2,
        n_samples=200,
        test_size=100,
        random_state=0,
    )
    assert {r["n_table_rows"] for r in records} == {10, 100}
    assert records[0]["chance_accuracy"] == 0.75
    assert records[0]["bayes_accuracy"] == bayes_accuracy(2, 0.25)
    assert set(GENERATOR_SETTINGS) <= set(records[0])


# Failing fits: error_score -------------------------------------------------------


class FailingClassifier(ClassifierMixin, BaseEstimator):
    """Fails to fit on blocks of ``fail_width`` columns; predicts 0 otherwise."""

    def __init__(self, fail_width=None):
        self.fail_width = fail_width

    def fit(self, X, y):
        if X.shape[1] == self.fail_width:
            raise np.linalg.LinAlgError("the matrix is singular")
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def test_a_failing_fit_names_the_estimator_the_setting_and_the_repeat():
    estimators = {"fine": DummyClassifier(), "fragile": FailingClassifier(12)}
    with pytest.raises(np.linalg.LinAlgError, match="singular") as info:
        geneperm_study(estimators, {"block_size": [1, 2]}, n_samples=40, **SMALL)
    (note,) = info.value.__notes__
    assert note.startswith(
        "geneperm_study: the estimator 'fragile' at block_size=2 n_columns=6 "
        "n_table_rows=50 n_samples=40 positive_fraction=0.5 repeat=0 failed on fold 0"
    )
    assert "error_score=np.nan" in note


def test_a_numeric_error_score_records_the_failure_and_goes_on(tmp_path):
    estimators = {"fine": DummyClassifier(), "fragile": FailingClassifier(12)}
    params = dict(
        param_grid={"block_size": [1, 2]},
        n_samples=90,
        cv=3,
        error_score=np.nan,
        results_file=tmp_path / "study.csv",
        **SMALL,
    )
    with pytest.warns(FitFailedWarning, match="'fragile' failed at block_size=2"):
        records = geneperm_study(estimators, **params)
    assert [r["error"] is None for r in records] == [True, True, True, False]
    failed = records[-1]
    assert np.isnan(failed["test_scores"]).all() and np.isnan(failed["mean_test_score"])
    assert failed["error"].count("Traceback") == 3
    assert "fold 2: Traceback" in failed["error"]
    assert "LinAlgError: the matrix is singular" in failed["error"]
    assert not np.isnan(records[2]["mean_test_score"])  # the others went on
    # The record, traceback and all, is read back from the file.
    again = geneperm_study(estimators, **params)
    assert without_fit_time(again)[-1]["error"] == failed["error"]
    assert np.isnan(again[-1]["mean_test_score"])

    with pytest.warns(FitFailedWarning, match="'fragile' failed at block_size=1"):
        zero = geneperm_study(
            {"fragile": FailingClassifier(6)},
            {"block_size": [1]},
            n_samples=40,
            error_score=0,
            **SMALL,
        )
    assert zero[0]["test_scores"] == [0.0] and "LinAlgError" in zero[0]["error"]


def test_a_scorer_that_returns_no_number_names_scoring():
    def wordy(estimator, X, y):
        return "good"

    with pytest.raises(ValueError) as info:
        geneperm_study(
            {"d": DummyClassifier()}, {"n_samples": [40]}, scoring=wordy, **SMALL
        )
    assert str(info.value).startswith(
        "The 'scoring' parameter of geneperm_study must give a number: <function "
    )
    assert "returned 'good' (a str) for the estimator 'd' at block_size=4" in str(
        info.value
    )


# What a results file resumes -----------------------------------------------------


def scored_by(constant):
    return lambda estimator, X, y: constant


def test_a_changed_function_is_a_different_study(tmp_path):
    path = tmp_path / "study.csv"
    study_into(path, scoring=lambda estimator, X, y: 0.25)
    with pytest.raises(ValueError, match="different study, which differs in scoring"):
        study_into(path, scoring=lambda estimator, X, y: 0.75)
    # Same code, other captured value; a changed default; a function in an estimator.
    study_into(tmp_path / "closure.csv", scoring=scored_by(0.25))
    with pytest.raises(ValueError, match="differs in scoring.digest"):
        study_into(tmp_path / "closure.csv", scoring=scored_by(0.75))

    def scaler(offset):
        return make_pipeline(
            FunctionTransformer(lambda X: X + offset), StandardScaler()
        )

    estimators = {"pipe": make_pipeline(scaler(1), NearestCentroid())}
    study_into(tmp_path / "pipe.csv", estimators=estimators)
    CountingClassifier.fits = 0
    assert study_into(tmp_path / "pipe.csv", estimators=estimators)
    estimators = {"pipe": make_pipeline(scaler(2), NearestCentroid())}
    with pytest.raises(ValueError, match="differs in estimators.pipe.params.steps"):
        study_into(tmp_path / "pipe.csv", estimators=estimators)


class Stream(io.StringIO):
    """A stream that cannot be pickled: its state is out of Python's sight."""

    def __reduce_ex__(self, protocol):
        raise TypeError("a stream cannot be pickled")

    def __deepcopy__(self, memo):
        return self


class HiddenState(ClassifierMixin, BaseEstimator):
    """Majority classifier with a parameter whose state Python cannot see."""

    def __init__(self, source=None):
        self.source = source

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def test_a_study_that_cannot_be_told_apart_is_not_resumed(tmp_path):
    path = tmp_path / "study.csv"
    estimators = {"hidden": HiddenState(source=Stream("one"))}
    # A new file: nothing to resume, the study runs.
    assert len(study_into(path, estimators=estimators)) == 8
    with pytest.raises(ValueError) as info:
        study_into(path, estimators={"hidden": HiddenState(source=Stream("two"))})
    message = str(info.value)
    assert "holds 8 records, but this study cannot be told apart from another" in (
        message
    )
    assert "estimators['hidden'].source: a test_study.Stream whose state is hidden" in (
        message
    )
    # Random generators of the standard library are told apart by their state.
    study_into(tmp_path / "random.csv", estimators={"r": HiddenState(Random(0))})
    with pytest.raises(ValueError, match="differs in estimators.r.params.source"):
        study_into(tmp_path / "random.csv", estimators={"r": HiddenState(Random(1))})


def test_a_difference_is_shown_where_it_is(tmp_path):
    path = tmp_path / "study.csv"
    study_into(path, estimators={"lr": LogisticRegression()})
    with pytest.raises(ValueError) as info:
        study_into(path, estimators={"lr": LogisticRegression(warm_start=True)})
    assert "differs in estimators.lr.params.warm_start (in the file: absent; now: " in (
        str(info.value)
    )
    long_a, long_b = "x" * 300 + "a", "x" * 300 + "b"
    shown = describe_differences({"k": long_a}, {"k": long_b})[0]
    old, new = shown.split("; now: ")
    assert old != new.rstrip(")") and "a" in old[-30:] and "b" in new[-30:]


# Two runs, one file ----------------------------------------------------------------

HELPER = '''
import pathlib, time
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class GatedClassifier(ClassifierMixin, BaseEstimator):
    """Fits at once on blocks of one row; waits for the gate file on wider ones."""

    fits = 0

    def __init__(self, gate=None):
        self.gate = gate

    def fit(self, X, y):
        type(self).fits += 1
        if X.shape[1] > 6:
            deadline = time.monotonic() + 60
            while not pathlib.Path(self.gate).exists():
                if time.monotonic() > deadline:
                    raise TimeoutError("the gate was never opened")
                time.sleep(0.02)
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])
'''


def test_a_second_run_on_the_same_file_is_refused_while_the_first_runs(
    tmp_path, monkeypatch
):
    (tmp_path / "gated_helper.py").write_text(HELPER)
    monkeypatch.syspath_prepend(str(tmp_path))
    import gated_helper

    path, gate = tmp_path / "study.csv", tmp_path / "gate"
    arguments = (
        f"{{'gated': gated_helper.GatedClassifier(gate={str(gate)!r})}}, "
        "{'block_size': [1, 2]}, n_samples=40, n_columns=6, n_table_rows=50, "
        f"test_size=400, random_state=0, results_file={str(path)!r}"
    )
    code = (
        "import gated_helper\nfrom geneperm_sk import geneperm_study\n"
        f"geneperm_study({arguments})\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    first = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=tmp_path)
    try:
        # Wait for the first run's first record: it then waits at the gate.
        while first.poll() is None and not (
            path.exists() and len(path.read_text().splitlines()) == 2
        ):
            time.sleep(0.02)
        assert first.poll() is None
        estimators = {"gated": gated_helper.GatedClassifier(gate=str(gate))}
        settings = dict(n_samples=40, results_file=path, **SMALL)
        with pytest.raises(ValueError, match="is in use by another run"):
            geneperm_study(estimators, {"block_size": [1, 2]}, **settings)
        assert gated_helper.GatedClassifier.fits == 0
    finally:
        gate.touch()
        assert first.wait(timeout=120) == 0
    assert len(path.read_text().splitlines()) == 3
    assert not path.with_name("study.csv.lock").exists()
    # Once the first run is over, the same call resumes its finished study.
    records = geneperm_study(estimators, {"block_size": [1, 2]}, **settings)
    assert len(records) == 2 and gated_helper.GatedClassifier.fits == 0


def test_a_lock_is_released_when_a_study_fails(tmp_path):
    path = tmp_path / "study.csv"
    with pytest.raises(np.linalg.LinAlgError):
        study_into(path, estimators={"f": FailingClassifier(6)})
    assert not path.with_name("study.csv.lock").exists()
    with pytest.raises(np.linalg.LinAlgError):
        study_into(path, estimators={"f": FailingClassifier(6)})


# Files the study did not write ----------------------------------------------------


def test_a_description_beside_a_new_file_that_is_not_a_studys_is_kept(tmp_path):
    own = tmp_path / "study.json"
    own.write_text('{"mine": true}')
    with pytest.raises(ValueError) as info:
        study_into(tmp_path / "study")
    assert "'study.json', where geneperm_study writes the study description, holds" in (
        str(info.value)
    )
    assert "Refusing to replace or append to a file that a study did not write" in (
        str(info.value)
    )
    assert own.read_text() == '{"mine": true}'
    assert not (tmp_path / "study").exists()


def test_a_symbolic_link_to_a_results_file_stays_a_link(tmp_path):
    (tmp_path / "data").mkdir()
    target, link = tmp_path / "data" / "study.csv", tmp_path / "study.csv"
    link.symlink_to(target)
    # The first task finishes last: the finished file is rewritten in task order.
    with joblib.parallel_config(backend="threading"):
        records = study_into(
            link,
            estimators={"counting": CountingClassifier(slow_width=6)},
            param_grid={"block_size": [1, 2]},
            n_repeats=1,
            n_samples=40,
            n_jobs=2,
        )
    assert link.is_symlink() and link.resolve() == target
    assert list(read_frame(target)["block_size"]) == [r["block_size"] for r in records]


def test_an_empty_results_file_name_is_named():
    with pytest.raises(ValueError) as info:
        study_into("")
    assert str(info.value) == (
        "The 'results_file' parameter of geneperm_study must be the path of a CSV "
        "file, such as 'study.csv'. Got the empty string ''."
    )


# Rows that are not what a study wrote ---------------------------------------------


def test_names_with_line_breaks_are_refused():
    with pytest.raises(ValueError) as info:
        geneperm_study({"two\nlines": DummyClassifier()}, {}, **SMALL)
    assert "without line breaks, tabs or other control characters" in str(info.value)
    assert "Got the name 'two\\nlines'" in str(info.value)


def test_a_trailing_blank_line_is_read_past(tmp_path):
    path = tmp_path / "study.csv"
    first = study_into(path)
    with open(path, "a") as file:
        file.write("\n")
    CountingClassifier.fits = 0
    assert study_into(path) == first and CountingClassifier.fits == 0


def test_bytes_that_are_not_utf8_are_named(tmp_path):
    path = tmp_path / "study.csv"
    study_into(path)
    with open(path, "ab") as file:
        file.write(b"caf\xe9\n")
    with pytest.raises(ValueError) as info:
        study_into(path)
    assert "Line 10 of the results_file" in str(info.value)
    assert "is not UTF-8 text (the byte 0xe9 at position" in str(info.value)


def test_a_mean_edited_by_hand_is_found(tmp_path):
    path = tmp_path / "study.csv"
    records = study_into(path, cv=2, param_grid={"n_samples": [40]}, n_repeats=1)
    text = path.read_text()
    mean = repr(records[0]["mean_test_score"])
    path.write_text(text.replace(f",{mean},", ",0.99,", 1))
    with pytest.raises(ValueError) as info:
        study_into(path, cv=2, param_grid={"n_samples": [40]}, n_repeats=1)
    assert "Line 2 of the results_file" in str(info.value)
    assert "mean_test_score 0.99 is not that of the test_scores" in str(info.value)


# Sizes decided by arithmetic -----------------------------------------------------


def test_training_sizes_are_decided_by_arithmetic(monkeypatch):
    calls = []
    original = recipe_module._missing_class_probability

    def counted(*args):
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(recipe_module, "_missing_class_probability", counted)
    with pytest.raises(ValueError, match=r"Use n_samples >= (\d+)\.") as info:
        geneperm_study(
            {"d": DummyClassifier()}, {"positive_fraction": [1e-6]}, random_state=0
        )
    assert len(calls) < 200  # a search by halving, not one size at a time
    smallest = int(str(info.value).rsplit(">= ", 1)[1].rstrip("."))
    assert original(smallest, 1e-6, 2) <= _MAX_MISSING_CLASS_PROBABILITY
    assert original(smallest - 1, 1e-6, 2) > _MAX_MISSING_CLASS_PROBABILITY

    with pytest.raises(ValueError) as info:
        geneperm_study(
            {"d": DummyClassifier()}, {"positive_fraction": [1e-300]}, random_state=0
        )
    assert "'positive_fraction' setting of geneperm_study is too far from 0.5" in str(
        info.value
    )
    assert "no n_samples up to 2**62" in str(info.value)


def test_data_no_machine_can_hold_are_refused_before_any_work(monkeypatch):
    def no_drawing(*args, **kwargs):
        raise AssertionError("data drawn before the arguments were checked")

    monkeypatch.setattr(recipe_module, "make_geneperm", no_drawing)
    with pytest.raises(ValueError) as info:
        geneperm_study({"d": DummyClassifier()}, {"n_samples": [2**70]})
    assert "ask for data no machine can hold" in str(info.value)
    assert f"n_samples={2**70}" in str(info.value)


def test_more_folds_than_samples_say_so():
    with pytest.raises(ValueError) as info:
        geneperm_study(
            {"d": DummyClassifier()}, {"n_samples": [100]}, cv=200, random_state=0
        )
    message = str(info.value)
    assert "for 200 stratified folds every draw needs at least 200 samples of each" in (
        message
    )
    assert "n_samples=100 cannot hold the 400 samples this takes" in message
    assert "probability" not in message


def test_no_more_workers_than_tasks(monkeypatch):
    asked = []
    original = study_module.Parallel

    def spy(*args, **kwargs):
        asked.append(kwargs["n_jobs"])
        return original(*args, **{**kwargs, "n_jobs": 1})

    monkeypatch.setattr(study_module, "Parallel", spy)
    geneperm_study({"d": DummyClassifier()}, {"block_size": [1, 2]}, n_jobs=64, **SMALL)
    assert asked == [2]
    geneperm_study({"d": DummyClassifier()}, {"block_size": [1, 2]}, n_jobs=-1, **SMALL)
    assert asked[-1] <= 2


def test_estimators_are_described_by_the_parameters_they_change():
    from sklearn.linear_model import LogisticRegression

    from geneperm_sk._describe import describe

    described, opaque = describe(LogisticRegression(max_iter=1000, C=1.0), "e")
    assert opaque == []
    # C=1.0 is the default: a release that adds or renames other defaults
    # describes the same estimator alike.
    assert described == {
        "class": "sklearn.linear_model._logistic.LogisticRegression",
        "params": {"max_iter": 1000},
    }
    assert describe(LogisticRegression(C=2.0), "e")[0]["params"] == {"C": 2.0}
    # An int where the default is a float is a change of type, kept.
    assert describe(LogisticRegression(C=1), "e")[0]["params"] == {"C": 1}


class VerboseFailingClassifier(FailingClassifier):
    """Fails with a message longer than a CSV field may be read back."""

    def fit(self, X, y):
        raise ValueError("x" * 150_000 + " the end")


def test_a_record_of_long_tracebacks_is_read_back(tmp_path):
    params = dict(
        param_grid={"block_size": [1]},
        n_samples=40,
        error_score=np.nan,
        results_file=tmp_path / "study.csv",
        **SMALL,
    )
    estimators = {"verbose": VerboseFailingClassifier()}
    with pytest.warns(FitFailedWarning):
        (record,) = geneperm_study(estimators, **params)
    assert record["error"].endswith("the end\n")
    assert "characters cut]" in record["error"]
    (again,) = geneperm_study(estimators, **params)  # resumed, not refused
    assert again["error"] == record["error"]

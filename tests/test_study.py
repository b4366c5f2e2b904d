import itertools
import json
import math
import pickle
import threading
import time
import tracemalloc

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import NearestCentroid
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import geneperm_sk._study as study_module
from geneperm_sk import AbsMeanClassifier, bayes_accuracy, geneperm_study
from geneperm_sk._study import (
    _MAX_MISSING_CLASS_PROBABILITY,
    GENERATOR_SETTINGS,
    RECORD_FIELDS,
    _missing_class_probability,
    _point_seeds,
    _with_row_layout,
    plan_study,
)

SMALL = dict(n_columns=6, n_table_rows=50, test_size=400, random_state=0)


class CountingClassifier(ClassifierMixin, BaseEstimator):
    """Predicts the majority class of its training data. Counts its fits across
    clones, and raises KeyboardInterrupt once ``budget`` fits have been made."""

    fits = 0
    budget = None
    lock = threading.Lock()

    def __init__(self, sleep=0.0, slow_width=None):
        self.sleep = sleep
        self.slow_width = slow_width

    def fit(self, X, y):
        cls = type(self)
        with cls.lock:
            if cls.budget is not None and cls.fits >= cls.budget:
                raise KeyboardInterrupt
            cls.fits += 1
        time.sleep(0.3 if X.shape[1] == self.slow_width else self.sleep)
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
    settings = dict(study_module._GENERATOR_DEFAULTS)
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
    joblib = pytest.importorskip("joblib")
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
    joblib = pytest.importorskip("joblib")
    distributed = pytest.importorskip("distributed")
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
    pandas = pytest.importorskip("pandas")
    return pandas.read_csv(path)


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
    joblib = pytest.importorskip("joblib")
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


def test_keyboard_interrupt_stops_a_parallel_study_promptly(tmp_path):
    joblib = pytest.importorskip("joblib")
    CountingClassifier.budget = 5
    start = time.perf_counter()
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
    elapsed = time.perf_counter() - start
    time.sleep(0.5)
    # The 20 fits would take 3 s on two threads: the interrupt comes at the sixth
    # fit, after 0.6 s, and no fit starts after it.
    assert elapsed < 1.5
    assert CountingClassifier.fits == 5
    # The records of the first two fits (done at 0.3 s) were saved at once.
    assert 2 <= len(read_frame(tmp_path / "study.csv")) <= 5


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

    monkeypatch.setattr(study_module, "make_geneperm", no_drawing)
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

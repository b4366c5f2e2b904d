import math

import numpy as np
import pandas
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import NearestCentroid
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from geneperm_sk import (
    AbsMeanClassifier,
    bayes_accuracy,
    geneperm_curve,
    geneperm_study,
)

RECORD_KEYS = {
    "estimator",
    "repeat",
    "test_scores",
    "mean_test_score",
    "std_test_score",
    "mean_fit_time",
    "bayes_accuracy",
    "chance_accuracy",
    "error",
}


def small_curve(estimators, **params):
    settings = dict(
        param_range=[1, 2], n_samples=300, cv=3, n_columns=6, random_state=0
    )
    settings.update(params)
    return geneperm_curve(estimators, **settings)


def test_one_record_per_value_and_estimator():
    estimators = {"centroid": NearestCentroid(), "dummy": DummyClassifier()}
    records = small_curve(estimators)
    assert [(r["estimator"], r["block_size"]) for r in records] == [
        ("centroid", 1),
        ("dummy", 1),
        ("centroid", 2),
        ("dummy", 2),
    ]
    for record in records:
        assert set(record) == RECORD_KEYS | {"block_size"}
        assert len(record["test_scores"]) == 3
        assert record["mean_test_score"] == pytest.approx(
            np.mean(record["test_scores"])
        )
        assert record["std_test_score"] == pytest.approx(np.std(record["test_scores"]))
        assert record["mean_fit_time"] > 0
        assert record["bayes_accuracy"] == bayes_accuracy(record["block_size"])
        assert record["chance_accuracy"] == 0.5


def test_records_load_into_a_dataframe():
    records = small_curve([("dummy", DummyClassifier())])
    frame = pandas.DataFrame(records)
    assert list(frame["block_size"]) == [1, 2]
    assert set(frame.columns) == RECORD_KEYS | {"block_size"}


def test_absmean_reaches_the_ceiling_where_logistic_regression_sits_at_chance():
    n_samples, block_size = 2000, 4
    records = geneperm_curve(
        {
            "AbsMean": AbsMeanClassifier(random_state=0),
            "LogisticRegression": LogisticRegression(),
        },
        param_range=[block_size],
        n_samples=n_samples,
        cv=4,
        n_columns=10,
        random_state=0,
    )
    scores = {r["estimator"]: r["mean_test_score"] for r in records}
    ceiling = bayes_accuracy(block_size)
    # Scores average over all n_samples held-out predictions.
    assert scores["AbsMean"] > ceiling - 4 * math.sqrt(
        ceiling * (1 - ceiling) / n_samples
    )
    assert abs(scores["LogisticRegression"] - 0.5) < 4 * math.sqrt(0.25 / n_samples)


def test_absmean_in_a_pipeline_learns_each_row_layout():
    # block_size=5 fits none of the data sets below: it must be replaced.
    pipeline = make_pipeline(StandardScaler(), AbsMeanClassifier(block_size=5))
    records = small_curve({"pipeline": pipeline}, param_range=[1, 3])
    assert all(r["mean_test_score"] > 0.7 for r in records)


@pytest.mark.parametrize(
    "param_name, param_range",
    [("n_columns", [4, 8]), ("n_table_rows", [10, 100]), ("n_samples", [100, 200])],
)
def test_other_generator_settings_can_be_varied(param_name, param_range):
    records = geneperm_curve(
        {"dummy": DummyClassifier()},
        param_name,
        param_range,
        cv=2,
        random_state=0,
        block_size=2,
    )
    assert [r[param_name] for r in records] == param_range
    assert all(r["bayes_accuracy"] == bayes_accuracy(2) for r in records)


def test_positive_fraction_sets_bayes_and_chance():
    records = geneperm_curve(
        {"dummy": DummyClassifier()},
        "positive_fraction",
        [0.2, 0.5],
        n_samples=200,
        cv=2,
        random_state=0,
        block_size=1,
    )
    assert records[0]["chance_accuracy"] == pytest.approx(0.8)
    assert records[0]["bayes_accuracy"] == pytest.approx(bayes_accuracy(1, 0.2))


def without_fit_time(records):
    return [{k: v for k, v in r.items() if k != "mean_fit_time"} for r in records]


def test_same_random_state_gives_same_records():
    estimators = {"centroid": NearestCentroid()}
    first, second = small_curve(estimators), small_curve(estimators)
    assert without_fit_time(first) == without_fit_time(second)
    other = small_curve(estimators, random_state=1)
    assert without_fit_time(other) != without_fit_time(first)


class InterruptedClassifier(DummyClassifier):
    """A classifier whose fit is stopped by Ctrl-C."""

    def fit(self, X, y):
        raise KeyboardInterrupt


def test_keyboard_interrupt_is_not_swallowed():
    with pytest.raises(KeyboardInterrupt):
        small_curve({"interrupted": InterruptedClassifier()})


def test_verbose_reports_progress_and_each_record(capsys):
    small_curve({"dummy": DummyClassifier()}, verbose=0)
    assert capsys.readouterr() == ("", "")
    small_curve({"dummy": DummyClassifier()}, verbose=1)
    captured = capsys.readouterr()
    assert captured.out == "" and "geneperm_curve: 100%" in captured.err
    small_curve({"dummy": DummyClassifier()}, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[geneperm_curve] block_size=1 repeat=0 dummy:")


def test_a_curve_is_the_one_setting_study():
    estimators = {"centroid": NearestCentroid()}
    settings = dict(n_samples=200, n_repeats=2, cv=None, test_size=300, n_columns=6)
    curve = geneperm_curve(estimators, "block_size", [1, 2], random_state=0, **settings)
    study = geneperm_study(
        estimators, {"block_size": [1, 2]}, random_state=0, **settings
    )
    assert [r["repeat"] for r in curve] == [0, 1, 0, 1]
    for from_curve, from_study in zip(curve, study, strict=True):
        assert from_curve.keys() == RECORD_KEYS | {"block_size"}
        assert from_curve["test_scores"] == from_study["test_scores"]
        assert from_curve["block_size"] == from_study["block_size"]
        assert len(from_curve["test_scores"]) == 1


def test_results_file_is_written_and_resumed(tmp_path):
    path = tmp_path / "curve.csv"
    estimators = {"centroid": NearestCentroid()}
    first = small_curve(estimators, results_file=path)
    assert len(path.read_text().splitlines()) == 1 + 2
    again = small_curve(estimators, results_file=path)
    assert again == first  # read back from the file, fit times included
    with pytest.raises(ValueError, match="different study"):
        small_curve(estimators, results_file=path, param_range=[1, 2, 4])


@pytest.mark.parametrize(
    "estimators, params, error, match",
    [
        ({}, {}, ValueError, "at least one estimator"),
        (
            [("a", DummyClassifier()), ("a", DummyClassifier())],
            {},
            ValueError,
            "distinct names",
        ),
        (
            {"linear": LinearRegression()},
            {},
            ValueError,
            "'estimators' parameter of geneperm_curve must hold scikit-learn "
            r"classifier instances. Got LinearRegression\(\) \(a regressor\)",
        ),
        ({"int": 3}, {}, ValueError, r"Got 3 \(a int\) under the name 'int'"),
        ([DummyClassifier()], {}, ValueError, "list of \\(name, estimator\\) pairs"),
        ("dummy", {}, ValueError, "'estimators' parameter"),
        (
            {"d": DummyClassifier()},
            {"param_name": "dtype"},
            ValueError,
            "'param_name' parameter",
        ),
        ({"d": DummyClassifier()}, {"flatten": False}, TypeError, "unexpected"),
        (
            {"d": DummyClassifier()},
            {"block_size": 2},
            ValueError,
            "do not also pass block_size=2",
        ),
        ({"d": DummyClassifier()}, {"n_columns": 3}, ValueError, "'n_columns'"),
    ],
)
def test_invalid_input_is_an_error(estimators, params, error, match):
    with pytest.raises(error, match=match):
        geneperm_curve(estimators, param_range=[1], n_samples=50, cv=2, **params)


class FragileClassifier(ClassifierMixin, BaseEstimator):
    """Fails to fit on blocks of two rows of 6 columns."""

    def fit(self, X, y):
        if X.shape[1] == 12:
            raise ValueError("cannot fit blocks of two rows")
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def test_error_score_reaches_the_curve():
    with pytest.raises(ValueError, match="cannot fit") as info:
        small_curve({"fragile": FragileClassifier()})
    assert (
        "geneperm_curve: the estimator 'fragile' at block_size=2"
        in (info.value.__notes__[0])
    )
    with pytest.warns(FitFailedWarning, match="'fragile' failed at block_size=2"):
        records = small_curve({"fragile": FragileClassifier()}, error_score=-1)
    assert [r["error"] is None for r in records] == [True, False]
    assert records[1]["test_scores"] == [-1.0, -1.0, -1.0]
    assert "cannot fit blocks of two rows" in records[1]["error"]

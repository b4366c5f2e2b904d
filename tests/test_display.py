import sys

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier

from geneperm_sk import GenePermCurveDisplay, bayes_accuracy

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def make_records(block_sizes=(1, 2, 4), names=("AbsMean", "LogisticRegression")):
    return [
        {
            "estimator": name,
            "block_size": block_size,
            "test_scores": [0.5, 0.6],
            "mean_test_score": 0.55 + 0.1 * position,
            "std_test_score": 0.05,
            "mean_fit_time": 0.1,
            "bayes_accuracy": bayes_accuracy(block_size),
            "chance_accuracy": 0.5,
        }
        for block_size in block_sizes
        for position, name in enumerate(names)
    ]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_from_results_draws_each_estimator_with_ceiling_and_chance():
    display = GenePermCurveDisplay.from_results(make_records())
    assert display.param_name == "block_size"
    assert sorted(display.lines_) == ["AbsMean", "LogisticRegression"]
    np.testing.assert_allclose(display.lines_["AbsMean"].get_ydata(), [0.55] * 3)
    np.testing.assert_allclose(display.lines_["AbsMean"].get_xdata(), [1, 2, 4])
    np.testing.assert_allclose(
        display.bayes_line_.get_ydata(), [bayes_accuracy(b) for b in (1, 2, 4)]
    )
    np.testing.assert_allclose(display.chance_line_.get_ydata(), 0.5)
    assert display.ax_.get_xscale() == "log"
    assert display.ax_.get_xlabel() == "block_size"
    legend = [text.get_text() for text in display.ax_.get_legend().get_texts()]
    assert legend == ["AbsMean", "LogisticRegression", "Bayes-optimal", "chance"]
    assert display.figure_ is display.ax_.figure


def test_from_results_accepts_a_dataframe_and_an_axes():
    pandas = pytest.importorskip("pandas")
    _, ax = plt.subplots()
    display = GenePermCurveDisplay.from_results(pandas.DataFrame(make_records()), ax=ax)
    assert display.ax_ is ax


def test_linear_axis_for_positive_fraction():
    records = [
        {"estimator": "a", "positive_fraction": fraction, "mean_test_score": 0.6}
        for fraction in (0.2, 0.5)
    ]
    display = GenePermCurveDisplay.from_results(records)
    assert display.ax_.get_xscale() == "linear"


def test_from_estimators_runs_the_curve():
    display = GenePermCurveDisplay.from_estimators(
        {"dummy": DummyClassifier()},
        param_range=[1, 2],
        n_samples=100,
        cv=2,
        n_columns=4,
        random_state=0,
    )
    assert list(display.lines_) == ["dummy"]
    assert [r["block_size"] for r in display.results] == [1, 2]


def test_records_without_the_setting_are_an_error():
    with pytest.raises(ValueError, match="cannot tell which setting"):
        GenePermCurveDisplay.from_results([{"estimator": "a", "mean_test_score": 1}])
    with pytest.raises(ValueError, match="must have the keys \\['n_columns'\\]"):
        GenePermCurveDisplay.from_results(make_records(), param_name="n_columns")


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="geneperm_sk\\[plot\\]"):
        GenePermCurveDisplay.from_results(make_records())

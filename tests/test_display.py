import sys

import matplotlib
import numpy as np
import pandas
import pytest
from sklearn.dummy import DummyClassifier

from geneperm_sk import GenePermCurveDisplay, GenePermHeatmapDisplay, bayes_accuracy

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
    with pytest.raises(ValueError, match="with the keys \\['n_columns'\\]"):
        GenePermCurveDisplay.from_results(make_records(), param_name="n_columns")


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="geneperm_sk\\[plot\\]"):
        GenePermCurveDisplay.from_results(make_records())


def study_records(block_sizes=(1, 4), sizes=(100, 1000), names=("AbsMean", "LR")):
    """Records as geneperm_study returns them: three repeats per grid point."""
    records = []
    for block_size in block_sizes:
        for n_samples in sizes:
            for repeat in range(3):
                for position, name in enumerate(names):
                    score = 0.5 + 0.1 * position + 0.01 * repeat + n_samples / 1e4
                    records.append(
                        {
                            "estimator": name,
                            "block_size": block_size,
                            "n_columns": 20,
                            "n_table_rows": 1000,
                            "n_samples": n_samples,
                            "positive_fraction": 0.5,
                            "repeat": repeat,
                            "mean_test_score": score,
                            "std_test_score": 0.0,
                            "mean_fit_time": 0.1,
                            "bayes_accuracy": bayes_accuracy(block_size),
                            "chance_accuracy": 0.5,
                            "test_scores": [score],
                        }
                    )
    return records


def test_curve_shows_mean_and_std_over_repeats_on_a_log_axis_of_sizes():
    records = study_records(block_sizes=(4,), sizes=(100, 1000, 10000))
    display = GenePermCurveDisplay.from_results(records)
    assert display.param_name == "n_samples"
    repeats = np.array([0.0, 0.01, 0.02])
    expected = [0.5 + repeats.mean() + n / 1e4 for n in (100, 1000, 10000)]
    np.testing.assert_allclose(display.lines_["AbsMean"].get_ydata(), expected)
    band = display.ax_.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(expected[0] - repeats.std())
    assert band[:, 1].max() == pytest.approx(expected[-1] + repeats.std())
    np.testing.assert_allclose(display.bayes_line_.get_ydata(), bayes_accuracy(4))
    assert display.ax_.get_xscale() == "log"
    labels = [label.get_text() for label in display.ax_.get_xticklabels()]
    assert labels == ["100", "1000", "10000"]


def test_curve_refuses_records_that_vary_another_setting():
    with pytest.raises(ValueError, match="cannot tell which setting"):
        GenePermCurveDisplay.from_results(study_records())
    with pytest.raises(ValueError, match="vary 'block_size' \\(\\[1, 4\\]\\) besides"):
        GenePermCurveDisplay.from_results(study_records(), param_name="n_samples")


@pytest.mark.parametrize("display", [GenePermCurveDisplay, GenePermHeatmapDisplay])
@pytest.mark.parametrize(
    "results, match",
    [
        ([], "must hold at least one record. Got no records"),
        ("records.csv", "must be a list of records .* Got str"),
        ([{"estimator": "a"}, 3], "must hold records \\(dicts\\). Got 3 at position 1"),
        (
            [
                {"estimator": "a", "block_size": 1, "mean_test_score": 0.5},
                {"estimator": "a", "n_columns": 4, "mean_test_score": 0.5},
            ],
            "same keys.* Record 1 lacks \\['block_size'\\] and has the extra "
            "\\['n_columns'\\]",
        ),
        (
            [{"estimator": "a", "block_size": 1}, {"estimator": "a", "block_size": 2}],
            "with the keys \\['mean_test_score'\\]",
        ),
    ],
)
def test_empty_or_ragged_records_are_errors(display, results, match):
    with pytest.raises(ValueError, match=f"'results' parameter of {display.__name__}"):
        display.from_results(results)
    with pytest.raises(ValueError, match=match):
        display.from_results(results)


def test_heatmap_shows_the_gap_to_the_ceiling_per_estimator():
    records = study_records()
    records = [
        r
        for r in records
        if not (
            r["estimator"] == "LR" and r["block_size"] == 4 and r["n_samples"] == 100
        )
    ]
    display = GenePermHeatmapDisplay.from_results(records)
    assert (display.x_name, display.y_name) == ("n_samples", "block_size")
    assert display.x_values_ == [100, 1000] and display.y_values_ == [1, 4]
    assert list(display.gaps_) == ["AbsMean", "LR"]
    mean_repeat = 0.01
    expected = np.array(
        [
            [bayes_accuracy(b) - (0.5 + mean_repeat + n / 1e4) for n in (100, 1000)]
            for b in (1, 4)
        ]
    )
    np.testing.assert_allclose(display.gaps_["AbsMean"], expected)
    lr = display.gaps_["LR"]
    assert np.isnan(lr[1, 0]) and display.text_["LR"][1, 0] is None
    np.testing.assert_allclose(lr[~np.isnan(lr)], (expected - 0.1)[~np.isnan(lr)])
    assert display.text_["AbsMean"][0, 1].get_text() == f"{expected[0, 1]:.2f}"
    assert len(display.axes_) == 2
    assert [ax.get_title() for ax in display.axes_] == ["AbsMean", "LR"]
    assert display.axes_[0].get_xlabel() == "n_samples"
    assert display.axes_[0].get_ylabel() == "block_size"
    images = display.images_
    assert images["AbsMean"].get_clim() == images["LR"].get_clim()
    assert display.colorbar_ is not None
    assert display.figure_ is display.axes_[0].figure


@pytest.mark.parametrize("values_format", [".2f", "+.2f", ".1%"])
def test_heatmap_labels_show_no_negative_zero(values_format):
    records = study_records(block_sizes=(1, 4), sizes=(100,), names=("AbsMean",))
    # just above the ceiling at block size 1, just below at block size 4,
    # clearly above at block size 4 on the second training size
    offsets = {1: 0.0001, 4: -0.0001}
    for record in records:
        score = record["bayes_accuracy"] + offsets[record["block_size"]]
        record["mean_test_score"], record["test_scores"] = score, [score]
    extra = [dict(record, n_samples=1000) for record in records]
    for record in extra:
        record["mean_test_score"] = record["test_scores"][0] = 1.2
    display = GenePermHeatmapDisplay.from_results(
        records + extra, values_format=values_format
    )
    labels = [[text.get_text() for text in row] for row in display.text_["AbsMean"]]
    zero = format(0.0, values_format)
    assert labels[0][0] == labels[1][0] == zero
    assert labels[1][1] == format(display.gaps_["AbsMean"][1, 1], values_format)
    assert labels[1][1].startswith("-")


def test_heatmap_draws_on_given_axes_with_chosen_settings():
    _, axes = plt.subplots(1, 2)
    display = GenePermHeatmapDisplay.from_results(
        pandas.DataFrame(study_records()),
        x_name="block_size",
        y_name="n_samples",
        ax=axes,
        values_format=None,
        colorbar=False,
    )
    assert list(display.axes_) == list(axes)
    assert display.gaps_["LR"].shape == (2, 2)
    assert display.colorbar_ is None and display.text_["LR"][0, 0] is None
    with pytest.raises(ValueError, match="one axes per estimator \\(2"):
        GenePermHeatmapDisplay.from_results(study_records(), ax=axes[0])


def test_heatmap_needs_two_settings():
    one_setting = study_records(block_sizes=(4,))
    with pytest.raises(ValueError, match="cannot tell which settings"):
        GenePermHeatmapDisplay.from_results(one_setting)
    with pytest.raises(ValueError, match="two different settings"):
        GenePermHeatmapDisplay.from_results(
            study_records(), x_name="n_samples", y_name="n_samples"
        )
    three = study_records() + [
        {**record, "n_columns": 40} for record in study_records()
    ]
    with pytest.raises(ValueError, match="vary 'n_columns'"):
        GenePermHeatmapDisplay.from_results(
            three, x_name="n_samples", y_name="block_size"
        )

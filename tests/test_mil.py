"""The multiple-instance benchmark: its recipe, its function, its table and the
``mil`` command."""

import json
import math

import numpy as np
import pandas
import pytest

import geneperm_sk._mil_benchmark as benchmark_module
from geneperm_sk import (
    load_mil_dataset,
    mil_benchmark,
    mil_benchmark_estimators,
    mil_benchmark_table,
)
from geneperm_sk.__main__ import main
from geneperm_sk._mil_benchmark import MILDatasetRecipe, plan_mil_benchmark

# Fast estimators and a tiny protocol: one data set, 2 folds, 1 repeat.
TINY = ["mil", "--datasets", "musk1", "--folds", "2", "--repeats", "1"]
FAST = ["--estimators", "pooled", "rowmoments"]


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if any data set is loaded."""

    def no_loading(*args, **kwargs):
        raise AssertionError("a data set was loaded before the arguments were checked")

    monkeypatch.setattr(benchmark_module, "load_mil_dataset", no_loading)


def run(capsys, argv):
    status = main(argv)
    return status, capsys.readouterr()


# The recipe ------------------------------------------------------------------------


def test_recipe_yields_stratified_folds_of_bags_covering_each_bag_once():
    recipe = MILDatasetRecipe("musk1", cv_seed=3, n_splits=4)
    bags, y = load_mil_dataset("musk1", return_X_y=True)
    tested = []
    for bags_train, _, bags_test, y_test in recipe.folds():
        assert len(bags_train) + len(bags_test) == len(bags)
        assert all(bag.ndim == 2 and bag.shape[1] == 166 for bag in bags_test)
        # Stratified: each fold's positive count is within one of its share.
        assert abs(y_test.sum() - y.sum() * len(y_test) / len(y)) <= 1
        tested += [bag.tobytes() for bag in bags_test]
    assert sorted(tested) == sorted(bag.tobytes() for bag in bags)
    counts = (int(y.sum()), len(y) - int(y.sum()))
    assert recipe.reference() == {"chance_accuracy": max(counts) / len(y)}


def test_folds_differ_between_repeats_and_not_with_the_other_data_sets():
    def test_folds(plan, dataset, repeat):
        (recipe,) = {
            task.recipe
            for task in plan.tasks
            if task.recipe.dataset == dataset and task.repeat == repeat
        }
        return [
            [float(bag.sum()) for bag in bags_test]
            for _, _, bags_test, _ in recipe.folds()
        ]

    estimators = mil_benchmark_estimators(["pooled"])
    settings = dict(n_splits=3, scoring="accuracy", error_score="raise", caller="test")
    both = plan_mil_benchmark(
        estimators, ["elephant", "musk1"], n_repeats=2, random_state=0, **settings
    )
    alone = plan_mil_benchmark(
        estimators, ["musk1"], n_repeats=1, random_state=0, **settings
    )
    other_seed = plan_mil_benchmark(
        estimators, ["musk1"], n_repeats=1, random_state=1, **settings
    )
    assert test_folds(both, "musk1", 0) == test_folds(alone, "musk1", 0)
    assert test_folds(both, "musk1", 0) != test_folds(both, "musk1", 1)
    assert test_folds(alone, "musk1", 0) != test_folds(other_seed, "musk1", 0)


# The function ----------------------------------------------------------------------


def test_mil_benchmark_records_repeats_then_data_sets_then_estimators(tmp_path):
    estimators = mil_benchmark_estimators(["pooled", "rowmoments"])
    records = mil_benchmark(estimators, ["musk1", "elephant"], n_splits=2, n_repeats=2)
    assert [(r["repeat"], r["dataset"], r["estimator"]) for r in records] == [
        (repeat, dataset, estimator)
        for repeat in range(2)
        for dataset in ["musk1", "elephant"]
        for estimator in estimators
    ]
    for record in records:
        assert len(record["test_scores"]) == 2
        assert record["mean_test_score"] == pytest.approx(
            np.mean(record["test_scores"])
        )
        assert record["error"] is None
    # Musk1's bags are told apart by their pooled rows far above chance.
    pooled = [r for r in records if r["estimator"] == "Pooled+SVC"]
    assert all(r["mean_test_score"] > r["chance_accuracy"] + 0.15 for r in pooled)


def test_mil_benchmark_resumes_from_its_results_file(tmp_path, monkeypatch):
    path = tmp_path / "mil.csv"
    arguments = (mil_benchmark_estimators(["pooled"]), ["musk1"])
    first = mil_benchmark(*arguments, n_splits=2, n_repeats=1, results_file=path)
    loads = []
    original = benchmark_module.load_mil_dataset
    monkeypatch.setattr(
        benchmark_module,
        "load_mil_dataset",
        lambda *args, **kwargs: loads.append(args) or original(*args, **kwargs),
    )
    second = mil_benchmark(*arguments, n_splits=2, n_repeats=1, results_file=path)
    assert second == first
    assert loads == []
    # Another protocol is another benchmark: its file is refused.
    with pytest.raises(ValueError, match="n_splits"):
        mil_benchmark(*arguments, n_splits=3, n_repeats=1, results_file=path)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"datasets": ["musk3"]}, "'datasets' parameter of mil_benchmark"),
        ({"datasets": ["musk1", "musk1"]}, "distinct names"),
        ({"datasets": []}, "non-empty"),
        ({"n_splits": 46}, "musk1 has 45"),
        ({"n_splits": 1}, "'n_splits' parameter"),
        ({"n_repeats": 0}, "'n_repeats' parameter"),
        ({"n_jobs": 0}, "'n_jobs' parameter"),
        ({"random_state": None, "results_file": "x.csv"}, "must be an int"),
    ],
)
def test_bad_arguments_are_errors_before_any_data_are_loaded(
    kwargs, match, no_work, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    arguments = {"datasets": ["musk1"], **kwargs}
    with pytest.raises(ValueError, match=match):
        mil_benchmark(mil_benchmark_estimators(["pooled"]), **arguments)
    assert not (tmp_path / "x.csv").exists()


def test_mil_benchmark_estimators_checks_its_names():
    estimators = mil_benchmark_estimators()
    assert list(estimators) == [
        "AttentionMIL",
        "Pooled+SVC",
        "DeepSets",
        "AbsMean",
        "RowMoments+LogisticRegression",
    ]
    with pytest.raises(ValueError, match="'names' parameter"):
        mil_benchmark_estimators(["svm"])
    with pytest.raises(ValueError, match="'names' parameter"):
        mil_benchmark_estimators("pooled")


def test_the_set_models_train_for_fixed_epochs_on_every_bag():
    """The attention and DeepSets pipelines: no early stopping on a slice of the
    training bags, and every bag in every epoch (AbsMean keeps its defaults,
    whose early stopping uses a slice of the training fold only)."""
    for name in ["AttentionMIL", "DeepSets"]:
        model = mil_benchmark_estimators()[name][-1]
        assert model.early_stopping is False
        assert model.max_samples_per_epoch is None


# The table -------------------------------------------------------------------------


def test_table_gives_the_standard_error_of_all_fold_scores():
    rng = np.random.default_rng(0)
    records = [
        {
            "estimator": name,
            "dataset": dataset,
            "repeat": repeat,
            "test_scores": rng.uniform(0.5, 1, size=10).tolist(),
        }
        for repeat in range(5)
        for dataset in ["musk1", "protein"]
        for name in ["a", "b"]
    ]
    rows = mil_benchmark_table(records)
    measured = [row for row in rows if row["source"] is None]
    assert [(row["estimator"], row["dataset"]) for row in measured] == [
        ("a", "musk1"),
        ("b", "musk1"),
        ("a", "protein"),
        ("b", "protein"),
    ]
    for row in measured:
        scores = [
            score
            for record in records
            if (record["estimator"], record["dataset"])
            == (row["estimator"], row["dataset"])
            for score in record["test_scores"]
        ]
        assert row["n_scores"] == 50 and row["n_repeats"] == 5
        assert row["mean"] == pytest.approx(sum(scores) / 50)
        variance = sum((s - row["mean"]) ** 2 for s in scores) / 49
        assert row["standard_error"] == pytest.approx(math.sqrt(variance / 50))
    published = [row for row in rows if row["source"] is not None]
    # Published rows only for the data sets measured that they report.
    assert {row["dataset"] for row in published} == {"musk1"}
    assert {row["estimator"]: row["mean"] for row in published} == {
        "Attention (published)": 0.892,
        "Gated attention (published)": 0.900,
        "mi-Graph (published)": 0.889,
        "MI-SVM (published)": 0.779,
    }
    assert all("20" in row["source"] for row in published)
    assert mil_benchmark_table(records, published=False) == measured


# The command -----------------------------------------------------------------------


def test_command_prints_the_table_resumes_and_matches_the_python_api(
    tmp_path, capsys, monkeypatch
):
    path = tmp_path / "mil.csv"
    status, out = run(capsys, [*TINY, *FAST, "--results-file", str(path)])
    assert status == 0
    lines = out.out.splitlines()
    assert "standard error of the 2 fold accuracies" in out.out
    frame = pandas.read_csv(path)
    assert list(frame["estimator"]) == ["Pooled+SVC", "RowMoments+LogisticRegression"]
    for estimator, mean in zip(
        frame["estimator"], frame["mean_test_score"], strict=True
    ):
        scores = json.loads(frame.set_index("estimator").loc[estimator, "test_scores"])
        (line,) = [line for line in lines if line.startswith(estimator)]
        standard_error = np.std(scores, ddof=1) / np.sqrt(2)
        assert line.split()[1:] == [f"{mean:.3f}", "±", f"{standard_error:.3f}"]
    assert any(
        line.split()[-1] == "0.889" for line in lines if line.startswith("mi-Graph")
    )
    assert "Zhou, Sun and Li, ICML 2009" in out.out
    assert "Ilse, Tomczak and Welling, ICML 2018" in out.out

    # The Python API with the same arguments gives the same records, from
    # scratch and from the command's file (which it resumes, computing nothing).
    estimators = mil_benchmark_estimators(["pooled", "rowmoments"], random_state=0)
    arguments = dict(n_splits=2, n_repeats=1, random_state=0)
    records = mil_benchmark(estimators, ["musk1"], **arguments)
    assert [r["test_scores"] for r in records] == [
        json.loads(scores) for scores in frame["test_scores"]
    ]
    monkeypatch.setattr(benchmark_module, "load_mil_dataset", None)  # no work
    resumed = mil_benchmark(estimators, ["musk1"], results_file=path, **arguments)
    assert [r["test_scores"] for r in resumed] == [r["test_scores"] for r in records]

    # The same command again resumes: nothing is computed, the same table.
    status, again = run(capsys, [*TINY, *FAST, "--results-file", str(path)])
    assert status == 0
    assert again.out == out.out


def test_command_refuses_another_benchmarks_file_unless_overwritten(tmp_path, capsys):
    path = tmp_path / "mil.csv"
    assert (
        run(capsys, [*TINY, "--estimators", "pooled", "--results-file", str(path)])[0]
        == 0
    )
    other = [*TINY[:-1], "2", "--estimators", "pooled", "--results-file", str(path)]
    with pytest.raises(SystemExit) as exit_info:
        main(other)
    assert exit_info.value.code == 2
    assert "--overwrite" in capsys.readouterr().err
    status, out = run(capsys, [*other, "--overwrite"])
    assert status == 0
    assert len(pandas.read_csv(path)) == 2


@pytest.mark.parametrize(
    "options, message",
    [
        (["--datasets", "musk3"], "invalid choice: 'musk3'"),
        (["--estimators", "svm"], "invalid choice: 'svm'"),
        (["--folds", "46"], "--folds: The 'n_splits' parameter"),
        (["--folds", "1"], "--folds"),
        (["--repeats", "0"], "--repeats"),
        (["--n-jobs", "0"], "--n-jobs"),
        (["--n-jobs", "2", "--scheduler", "tcp://x:1"], "not allowed with"),
    ],
)
def test_bad_options_are_argparse_errors_before_any_work(
    options, message, tmp_path, capsys, no_work
):
    path = tmp_path / "mil.csv"
    with pytest.raises(SystemExit) as exit_info:
        main(["mil", "--datasets", "musk1", *options, "--results-file", str(path)])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not path.exists()


def test_results_file_is_required(capsys):
    with pytest.raises(SystemExit):
        main(["mil"])
    assert "--results-file" in capsys.readouterr().err


def test_the_table_names_a_record_that_is_not_one_of_the_benchmark():
    good = {"estimator": "m", "dataset": "musk1", "repeat": 0, "test_scores": [1.0]}
    with pytest.raises(ValueError, match=r"'records' .* record 1 lacks 'dataset'"):
        mil_benchmark_table([good, {"estimator": "m", "test_scores": [1.0]}])

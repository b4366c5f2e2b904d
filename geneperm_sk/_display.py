"""Plot of accuracy against a Gene-Perm setting, with the Bayes ceiling and chance."""

import numpy as np

from ._curve import GENERATOR_SETTINGS, geneperm_curve

__all__ = ["GenePermCurveDisplay"]

# Settings that are swept over powers: shown on a logarithmic axis of this base.
_LOG_BASE = {"block_size": 2, "n_columns": 2, "n_samples": 10, "n_table_rows": 10}


def _import_pyplot(caller):
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            f"{caller} needs matplotlib, which is an optional dependency of "
            "geneperm_sk: install it with pip install 'geneperm_sk[plot]'."
        ) from error
    return plt


def _records_from(results):
    """Accept a list of records or a pandas DataFrame of them."""
    if hasattr(results, "to_dict"):
        return results.to_dict("records")
    return list(results)


class GenePermCurveDisplay:
    """Accuracy of several estimators against a Gene-Perm setting.

    Each estimator is drawn as its mean cross-validated score with a band of one
    standard deviation; the Bayes-optimal accuracy and the chance level frame them.
    Build it with :meth:`from_estimators` (which runs :func:`geneperm_curve`) or
    :meth:`from_results` (from records already computed), or call the constructor
    and then :meth:`plot`.

    Parameters
    ----------
    results : list of dict or pandas.DataFrame
        Records as returned by :func:`geneperm_curve`.

    param_name : str
        The varied setting, a key of every record.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes of the plot.

    figure_ : matplotlib Figure
        The figure of the plot.

    lines_ : dict of str -> matplotlib Line2D
        The mean-score line of each estimator, by name.

    bayes_line_ : matplotlib Line2D
        The Bayes-optimal accuracy.

    chance_line_ : matplotlib Line2D
        The accuracy of always predicting the majority class.

    See Also
    --------
    geneperm_curve : Compute the records.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.linear_model import LogisticRegression
    >>> from geneperm_sk import AbsMeanClassifier, GenePermCurveDisplay
    >>> display = GenePermCurveDisplay.from_estimators(
    ...     {"AbsMean": AbsMeanClassifier(random_state=0),
    ...      "LogisticRegression": LogisticRegression()},
    ...     param_range=[1, 2, 4], n_samples=300, cv=3, n_columns=8, random_state=0)
    >>> sorted(display.lines_)
    ['AbsMean', 'LogisticRegression']
    """

    def __init__(self, *, results, param_name):
        self.results = results
        self.param_name = param_name

    def plot(self, ax=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            The axes to draw on; a new figure is created if None.

        Returns
        -------
        display : GenePermCurveDisplay
            The display, with ``ax_``, ``figure_`` and the lines set.
        """
        plt = _import_pyplot("GenePermCurveDisplay.plot")
        records = _records_from(self.results)
        if not records:
            raise ValueError("GenePermCurveDisplay needs at least one record to plot.")
        missing = [
            key
            for key in (self.param_name, "estimator", "mean_test_score")
            if key not in records[0]
        ]
        if missing:
            raise ValueError(
                f"GenePermCurveDisplay records must have the keys {missing}, as "
                f"geneperm_curve returns them; got the keys {sorted(records[0])}."
            )
        if ax is None:
            _, ax = plt.subplots()

        values = sorted({record[self.param_name] for record in records})
        names = list(dict.fromkeys(record["estimator"] for record in records))
        self.lines_ = {}
        for name in names:
            by_value = {
                record[self.param_name]: record
                for record in records
                if record["estimator"] == name
            }
            xs = [value for value in values if value in by_value]
            means = np.array([by_value[x]["mean_test_score"] for x in xs])
            stds = np.array([by_value[x].get("std_test_score", 0.0) for x in xs])
            (line,) = ax.plot(xs, means, marker="o", label=name)
            ax.fill_between(
                xs, means - stds, means + stds, alpha=0.2, color=line.get_color()
            )
            self.lines_[name] = line

        first_by_value = {}
        for record in records:
            first_by_value.setdefault(record[self.param_name], record)
        bayes = [first_by_value[v].get("bayes_accuracy", np.nan) for v in values]
        chance = [first_by_value[v].get("chance_accuracy", 0.5) for v in values]
        (self.bayes_line_,) = ax.plot(
            values, bayes, color="black", linestyle="--", label="Bayes-optimal"
        )
        (self.chance_line_,) = ax.plot(
            values, chance, color="grey", linestyle=":", label="chance"
        )

        if self.param_name in _LOG_BASE:
            ax.set_xscale("log", base=_LOG_BASE[self.param_name])
            ax.set_xticks(values, [str(value) for value in values])
            ax.minorticks_off()
        ax.set_xlabel(self.param_name)
        ax.set_ylabel("cross-validated accuracy")
        ax.set_ylim(min(0.4, ax.get_ylim()[0]), 1.02)
        ax.legend(loc="best")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_results(cls, results, *, param_name=None, ax=None):
        """Plot records computed by :func:`geneperm_curve`.

        Parameters
        ----------
        results : list of dict or pandas.DataFrame
            The records.

        param_name : str, default=None
            The varied setting. If None, it is the one key of the records that is
            not a score field.

        ax : matplotlib Axes, default=None
            The axes to draw on; a new figure is created if None.

        Returns
        -------
        display : GenePermCurveDisplay
        """
        records = _records_from(results)
        if param_name is None:
            first = records[0] if records else {}
            candidates = [key for key in first if key in GENERATOR_SETTINGS]
            if len(candidates) != 1:
                raise ValueError(
                    "GenePermCurveDisplay.from_results cannot tell which setting the "
                    f"records vary (found {candidates}); pass param_name."
                )
            (param_name,) = candidates
        return cls(results=records, param_name=param_name).plot(ax=ax)

    @classmethod
    def from_estimators(
        cls,
        estimators,
        param_name="block_size",
        param_range=(1, 2, 4, 8, 16),
        *,
        ax=None,
        **curve_params,
    ):
        """Run :func:`geneperm_curve` and plot its records.

        Parameters
        ----------
        estimators : dict or list of (str, estimator) tuples
            The classifiers to compare, by name.

        param_name : str, default="block_size"
            The :func:`make_geneperm` setting to vary.

        param_range : array-like, default=(1, 2, 4, 8, 16)
            Its values.

        ax : matplotlib Axes, default=None
            The axes to draw on; a new figure is created if None.

        **curve_params
            Passed to :func:`geneperm_curve`: ``n_samples``, ``cv``, ``scoring``,
            ``n_jobs``, ``random_state``, ``verbose`` and generator settings.

        Returns
        -------
        display : GenePermCurveDisplay
        """
        _import_pyplot("GenePermCurveDisplay.from_estimators")
        records = geneperm_curve(estimators, param_name, param_range, **curve_params)
        return cls(results=records, param_name=param_name).plot(ax=ax)

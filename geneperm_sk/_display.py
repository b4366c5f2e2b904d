"""Plots of study records: scores against one Gene-Perm setting, and the gap to the
Bayes ceiling over two settings."""

from collections.abc import Mapping

import numpy as np

from ._curve import geneperm_curve
from ._study import GENERATOR_SETTINGS

__all__ = ["GenePermCurveDisplay", "GenePermHeatmapDisplay"]

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


def _checked_records(results, required, caller):
    """The records of ``results`` (a list of dicts or a pandas DataFrame), checked
    to be non-empty, to share their keys and to have the ``required`` ones."""
    if hasattr(results, "to_dict") and hasattr(results, "columns"):
        records = results.to_dict("records")
    elif isinstance(results, (str, bytes, Mapping)) or not hasattr(results, "__iter__"):
        raise ValueError(
            f"The 'results' parameter of {caller} must be a list of records (dicts) "
            f"or a pandas DataFrame of them. Got {type(results).__name__} instead."
        )
    else:
        records = list(results)
    if not records:
        raise ValueError(
            f"The 'results' parameter of {caller} must hold at least one record. Got "
            "no records."
        )
    for position, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise ValueError(
                f"The 'results' parameter of {caller} must hold records (dicts). Got "
                f"{record!r} at position {position}."
            )
    keys = set(records[0])
    for position, record in enumerate(records[1:], start=1):
        if set(record) != keys:
            raise ValueError(
                f"The 'results' parameter of {caller} must hold records with the "
                f"same keys, as one study returns them. Record {position} lacks "
                f"{sorted(keys - set(record))} and has the extra "
                f"{sorted(set(record) - keys)} compared with record 0."
            )
    missing = [key for key in required if key not in keys]
    if missing:
        raise ValueError(
            f"The 'results' parameter of {caller} must hold records with the keys "
            f"{missing}, as geneperm_study and geneperm_curve return them. Got the "
            f"keys {sorted(keys)}."
        )
    return records


def _varied_settings(records):
    """The settings that take more than one value among ``records``."""
    return [
        name
        for name in GENERATOR_SETTINGS
        if name in records[0] and len({record[name] for record in records}) > 1
    ]


def _check_fixed(records, shown, caller):
    """Refuse records that vary a setting the plot does not show."""
    hidden = [name for name in _varied_settings(records) if name not in shown]
    if hidden:
        values = sorted({record[hidden[0]] for record in records})
        raise ValueError(
            f"The 'results' parameter of {caller} holds records that vary "
            f"{hidden[0]!r} ({values}) besides {' and '.join(map(repr, shown))}: "
            f"select the records of one {hidden[0]} value at a time."
        )


def _mean_and_std(group):
    """Mean and standard deviation over repeats; over folds for a single record."""
    means = np.array([record["mean_test_score"] for record in group], dtype=float)
    if len(group) == 1:
        return means[0], float(group[0].get("std_test_score", 0.0))
    return float(means.mean()), float(means.std())


def _set_axis(ax, axis, name, values):
    """Label an axis with a setting and its values, logarithmic for powers."""
    if name in _LOG_BASE:
        getattr(ax, f"set_{axis}scale")("log", base=_LOG_BASE[name])
        ax.minorticks_off()
    getattr(ax, f"set_{axis}ticks")(values, [str(value) for value in values])
    getattr(ax, f"set_{axis}label")(name)


def _format_label(value, values_format):
    """``format(value, values_format)``, with no sign on a value that shows as 0.

    A model slightly above the ceiling on a test set has a gap of, say, -0.001,
    which ``".2f"`` writes "-0.00"; the label reads "0.00" instead.
    """
    text = format(value, values_format)
    zero = format(0.0, values_format)
    if text.startswith("-") and text.lstrip("+-") == zero.lstrip("+-"):
        return zero
    return text


class GenePermCurveDisplay:
    """Accuracy of several estimators against one Gene-Perm setting.

    Each estimator is drawn as its mean score with a band of one standard
    deviation: over repeats when the records hold several per value, over folds
    otherwise. The Bayes-optimal accuracy and the chance level frame them. Settings
    swept over powers (``block_size``, ``n_columns``, ``n_table_rows`` and
    ``n_samples``, as in sample-complexity curves) are shown on a logarithmic axis.
    Build it with :meth:`from_estimators` (which runs :func:`geneperm_curve`) or
    :meth:`from_results` (from records already computed), or call the constructor
    and then :meth:`plot`.

    Read more in the :ref:`User Guide <plotting_studies>`.

    Parameters
    ----------
    results : list of dict or pandas.DataFrame
        Records as returned by :func:`geneperm_curve` or :func:`geneperm_study`.
        Settings other than ``param_name`` must take one value among them.

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
    GenePermHeatmapDisplay : The gap to the Bayes ceiling over two settings.

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
        caller = "GenePermCurveDisplay"
        plt = _import_pyplot(f"{caller}.plot")
        records = _checked_records(
            self.results, (self.param_name, "estimator", "mean_test_score"), caller
        )
        _check_fixed(records, [self.param_name], caller)
        if ax is None:
            _, ax = plt.subplots()

        values = sorted({record[self.param_name] for record in records})
        names = list(dict.fromkeys(record["estimator"] for record in records))
        self.lines_ = {}
        for name in names:
            xs, means, stds = [], [], []
            for value in values:
                group = [
                    record
                    for record in records
                    if record["estimator"] == name and record[self.param_name] == value
                ]
                if group:
                    mean, std = _mean_and_std(group)
                    xs.append(value)
                    means.append(mean)
                    stds.append(std)
            means, stds = np.array(means), np.array(stds)
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

        _set_axis(ax, "x", self.param_name, values)
        ax.set_ylabel("accuracy")
        ax.set_ylim(min(0.4, ax.get_ylim()[0]), 1.02)
        ax.legend(loc="best")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_results(cls, results, *, param_name=None, ax=None):
        """Plot records computed by :func:`geneperm_curve` or
        :func:`geneperm_study`.

        Parameters
        ----------
        results : list of dict or pandas.DataFrame
            The records.

        param_name : str, default=None
            The varied setting. If None, it is the one setting among the records'
            keys, or else the one setting that takes several values.

        ax : matplotlib Axes, default=None
            The axes to draw on; a new figure is created if None.

        Returns
        -------
        display : GenePermCurveDisplay
        """
        caller = "GenePermCurveDisplay.from_results"
        records = _checked_records(results, ("estimator", "mean_test_score"), caller)
        if param_name is None:
            present = [name for name in GENERATOR_SETTINGS if name in records[0]]
            varied = _varied_settings(records)
            candidates = present if len(present) == 1 else varied
            if len(candidates) != 1:
                raise ValueError(
                    f"{caller} cannot tell which setting the records vary (found "
                    f"{candidates} among the settings {present}); pass param_name."
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
            Passed to :func:`geneperm_curve`: ``n_samples``, ``n_repeats``,
            ``cv``, ``test_size``, ``scoring``, ``n_jobs``, ``random_state``,
            ``results_file``, ``verbose`` and generator settings.

        Returns
        -------
        display : GenePermCurveDisplay
        """
        _import_pyplot("GenePermCurveDisplay.from_estimators")
        records = geneperm_curve(estimators, param_name, param_range, **curve_params)
        return cls(results=records, param_name=param_name).plot(ax=ax)


class GenePermHeatmapDisplay:
    """Gap to the Bayes ceiling over two Gene-Perm settings, one panel per estimator.

    Each cell is ``bayes_accuracy - mean_test_score`` averaged over the repeats of
    one grid point: 0 at the ceiling, about ``bayes_accuracy - 0.5`` at chance (for
    balanced classes). All panels share one colour scale. Build it with
    :meth:`from_results` or call the constructor and then :meth:`plot`.

    Read more in the :ref:`User Guide <plotting_studies>`.

    Parameters
    ----------
    results : list of dict or pandas.DataFrame
        Records as returned by :func:`geneperm_study`. Settings other than
        ``x_name`` and ``y_name`` must take one value among them.

    x_name : str
        The setting along the horizontal axis.

    y_name : str
        The setting along the vertical axis.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes
        One panel per estimator, in the order of the records.

    figure_ : matplotlib Figure
        The figure of the plot.

    gaps_ : dict of str -> ndarray of shape (n_y_values, n_x_values)
        The gap of each estimator, NaN where the records have no score.

    images_ : dict of str -> matplotlib AxesImage
        The heatmap of each estimator.

    text_ : dict of str -> ndarray of matplotlib Text or None
        The value written in each cell (None in empty cells).

    colorbar_ : matplotlib Colorbar
        The shared colour scale.

    x_values_ : list
        The values of ``x_name``, increasing from left to right.

    y_values_ : list
        The values of ``y_name``, increasing from bottom to top.

    See Also
    --------
    geneperm_study : Compute the records.
    GenePermCurveDisplay : Scores against one setting.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.linear_model import LogisticRegression
    >>> from geneperm_sk import GenePermHeatmapDisplay, geneperm_study
    >>> records = geneperm_study(
    ...     {"LogisticRegression": LogisticRegression()},
    ...     {"block_size": [1, 4], "n_samples": [100, 400]},
    ...     test_size=1000, n_columns=10, random_state=0)
    >>> display = GenePermHeatmapDisplay.from_results(records)
    >>> display.x_values_, display.y_values_
    ([100, 400], [1, 4])
    >>> display.gaps_["LogisticRegression"].shape
    (2, 2)
    """

    def __init__(self, *, results, x_name, y_name):
        self.results = results
        self.x_name = x_name
        self.y_name = y_name

    def plot(self, ax=None, *, cmap="viridis", values_format=".2f", colorbar=True):
        """Draw the heatmaps.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of Axes, default=None
            One axes per estimator; a new figure with a row of panels is created if
            None.

        cmap : str or matplotlib Colormap, default="viridis"
            The colour map of the gap.

        values_format : str, default=".2f"
            The format of the values written in the cells; None writes none.

        colorbar : bool, default=True
            Whether to draw the shared colour bar.

        Returns
        -------
        display : GenePermHeatmapDisplay
            The display, with ``axes_``, ``figure_``, ``gaps_`` and the images set.
        """
        caller = "GenePermHeatmapDisplay"
        plt = _import_pyplot(f"{caller}.plot")
        if self.x_name == self.y_name:
            raise ValueError(
                f"{caller} needs two different settings for its axes. Got "
                f"x_name=y_name={self.x_name!r}."
            )
        records = _checked_records(
            self.results,
            (
                self.x_name,
                self.y_name,
                "estimator",
                "mean_test_score",
                "bayes_accuracy",
            ),
            caller,
        )
        _check_fixed(records, [self.x_name, self.y_name], caller)
        names = list(dict.fromkeys(record["estimator"] for record in records))
        xs = sorted({record[self.x_name] for record in records})
        ys = sorted({record[self.y_name] for record in records})

        if ax is None:
            figure, axes = plt.subplots(
                1,
                len(names),
                figsize=(1.5 + 3.5 * len(names), 3.5),
                squeeze=False,
                constrained_layout=True,
            )
            axes = axes[0]
        else:
            axes = np.ravel(np.asarray(ax, dtype=object))
            if len(axes) != len(names):
                raise ValueError(
                    f"The 'ax' parameter of {caller}.plot must hold one axes per "
                    f"estimator ({len(names)}: {names}). Got {len(axes)} axes."
                )
            figure = axes[0].figure

        self.gaps_ = {}
        for name in names:
            gap = np.full((len(ys), len(xs)), np.nan)
            for row, y_value in enumerate(ys):
                for column, x_value in enumerate(xs):
                    group = [
                        record
                        for record in records
                        if record["estimator"] == name
                        and record[self.x_name] == x_value
                        and record[self.y_name] == y_value
                    ]
                    if group:
                        mean, _ = _mean_and_std(group)
                        gap[row, column] = group[0]["bayes_accuracy"] - mean
            self.gaps_[name] = gap
        finite = np.concatenate([gap[np.isfinite(gap)] for gap in self.gaps_.values()])
        vmin = min(0.0, float(finite.min())) if finite.size else 0.0
        vmax = max(vmin + 0.01, float(finite.max())) if finite.size else 0.5

        self.images_, self.text_ = {}, {}
        for position, (axes_item, name) in enumerate(zip(axes, names, strict=True)):
            gap = self.gaps_[name]
            image = axes_item.imshow(
                gap,
                origin="lower",
                aspect="auto",
                cmap=cmap,
                vmin=vmin,
                vmax=vmax,
                interpolation="nearest",
            )
            texts = np.full(gap.shape, None, dtype=object)
            if values_format is not None:
                middle = (vmin + vmax) / 2
                for (row, column), value in np.ndenumerate(gap):
                    if np.isfinite(value):
                        color = image.cmap(0.0 if value > middle else 1.0)
                        texts[row, column] = axes_item.text(
                            column,
                            row,
                            _format_label(value, values_format),
                            ha="center",
                            va="center",
                            color=color,
                        )
            axes_item.set_xticks(range(len(xs)), [str(value) for value in xs])
            axes_item.set_yticks(range(len(ys)), [str(value) for value in ys])
            axes_item.set_xlabel(self.x_name)
            if position == 0:
                axes_item.set_ylabel(self.y_name)
            axes_item.set_title(name)
            self.images_[name] = image
            self.text_[name] = texts
        self.colorbar_ = (
            figure.colorbar(image, ax=list(axes), label="Bayes accuracy - accuracy")
            if colorbar
            else None
        )
        self.axes_ = np.asarray(axes, dtype=object)
        self.figure_ = figure
        self.x_values_, self.y_values_ = xs, ys
        return self

    @classmethod
    def from_results(
        cls,
        results,
        *,
        x_name=None,
        y_name=None,
        ax=None,
        cmap="viridis",
        values_format=".2f",
        colorbar=True,
    ):
        """Plot records computed by :func:`geneperm_study`.

        Parameters
        ----------
        results : list of dict or pandas.DataFrame
            The records.

        x_name, y_name : str, default=None
            The settings along the axes. If None, they are the two settings that
            take several values among the records: ``y_name`` the first and
            ``x_name`` the second in the order block_size, n_columns,
            n_table_rows, n_samples, positive_fraction (so block size against
            training size puts the training size along the horizontal axis).

        ax : matplotlib Axes or array-like of Axes, default=None
            One axes per estimator; a new figure is created if None.

        cmap : str or matplotlib Colormap, default="viridis"
            The colour map of the gap.

        values_format : str, default=".2f"
            The format of the values written in the cells; None writes none.

        colorbar : bool, default=True
            Whether to draw the shared colour bar.

        Returns
        -------
        display : GenePermHeatmapDisplay
        """
        caller = "GenePermHeatmapDisplay.from_results"
        records = _checked_records(results, ("estimator", "mean_test_score"), caller)
        if x_name is None or y_name is None:
            varied = [
                name
                for name in _varied_settings(records)
                if name not in (x_name, y_name)
            ]
            needed = (x_name is None) + (y_name is None)
            if len(varied) != needed:
                raise ValueError(
                    f"{caller} cannot tell which settings to put on the axes: the "
                    f"records vary {_varied_settings(records)}; pass x_name and "
                    "y_name."
                )
            if y_name is None:
                y_name = varied.pop(0)
            if x_name is None:
                x_name = varied.pop(0)
        return cls(results=records, x_name=x_name, y_name=y_name).plot(
            ax=ax, cmap=cmap, values_format=values_format, colorbar=colorbar
        )

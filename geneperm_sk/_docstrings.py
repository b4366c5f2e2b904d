"""Descriptions shared by the docstrings of the block classifiers.

:class:`AbsMeanClassifier`, :class:`DeepSetsClassifier` and
:class:`AttentionMILClassifier` share their input conventions and training
machinery, and so most of their parameters and fitted attributes. Their
descriptions are written once here and put into each docstring by the
``Substitution`` decorator, in the manner of imbalanced-learn's decorator of
that name: a docstring line that holds nothing but ``{name}`` is replaced by
the text of ``name``, indented as the placeholder is. A text may be a whole
entry (``name : type`` and its description) or the description of an entry
whose first line, with its own default, stays in the docstring.
"""

import re
import textwrap

__all__ = ["BLOCK_CLASSIFIER_DOCS", "Substitution"]


def _text(text):
    return textwrap.dedent(text).strip("\n")


BLOCK_CLASSIFIER_DOCS = {
    # -- parameters ---------------------------------------------------------------
    "layout_parameters": _text(
        """
        block_size : int, default=None
            The number of rows per sample. With 2-D ``X`` of shape
            ``(n_samples, block_size * n_columns)``, exactly one of ``block_size``
            and ``n_columns`` must be given and the other is inferred from the
            width of ``X``. With 3-D ``X`` of shape
            ``(n_samples, block_size, n_columns)`` neither is needed, and a given
            value must agree with the shape. ``X`` can also be a sequence of
            bags: a list (or 1-D object array) of 2-D arrays of shape
            ``(n_rows_i, n_columns)`` with any ``n_rows_i >= 1``, pooled bag by
            bag without padding; then neither is needed either.

        n_columns : int, default=None
            The number of features per row. See ``block_size``.
        """
    ),
    "lr": _text(
        """
        lr : float, default=0.01
            The Adam learning rate.
        """
    ),
    "max_epochs": "The most epochs of training. 0 keeps the initial parameters.",
    "batch_size": "The number of samples per mini-batch.",
    "max_samples_per_epoch": _text(
        """
        The most training samples one epoch visits. With more training
        samples an epoch is the next ``max_samples_per_epoch`` of one running
        random order, so every sample is used once before any is used twice,
        and early stopping judges the model after every such stretch instead
        of waiting for whole passes over a large data set. None makes every
        epoch one full pass.
        """
    ),
    "early_stopping": _text(
        """
        Whether to set aside ``validation_fraction`` of the training data and
        stop early (see ``n_iter_to_first_gain`` and ``n_iter_no_change``),
        keeping the parameters with the best validation loss. The initial
        parameters count as a candidate, and an epoch replaces them only with a
        gain: a validation loss 10% lower than theirs, whose mean improvement
        over the same samples (paired, sample by sample) also exceeds two
        standard errors. On a validation part of a few samples a 10% lower mean
        is often one sample's luck; a fit that learns nothing returns the
        initial model rather than one fitted to noise. "auto" enables early
        stopping when the validation part can hold at least two samples with
        one of each class and the rest at least two of each class, and trains
        on all samples for ``max_epochs`` otherwise; True raises an error when
        the data are too few.
        """
    ),
    "validation_fraction": _text(
        """
        validation_fraction : float, default=0.1
            The fraction of the training samples set aside (stratified) for early
            stopping, at most 15,000 samples: that many already rank the epochs
            reliably, and the validation passes then cost the same whatever the
            size of the data.
        """
    ),
    "n_iter_no_change": _text(
        """
        After the first gain, the number of epochs without improvement of the
        validation loss after which training stops.
        """
    ),
    "n_iter_to_first_gain": _text(
        """
        The number of epochs to wait for the first gain on the initial
        parameters (see ``early_stopping``): when none of them gains, training
        stops and the initial parameters are kept; from the first gain on,
        ``n_iter_no_change`` applies.
        """
    ),
    "device": _text(
        """
        device : "auto", str or torch.device, default="auto"
            Where to train and predict: "auto" uses CUDA when available and the
            CPU otherwise; "cpu", "cuda", "cuda:1" or a :class:`torch.device`
            choose. A model fitted on CUDA can be pickled, or saved with
            :meth:`save`, and loaded on a machine without a GPU; it then predicts
            on the CPU.
        """
    ),
    "random_state": _text(
        """
        random_state : int, RandomState instance or None, default=None
            Controls the random initialisation, the validation split and the
            order of mini-batches. Pass an int for reproducible fits. Fitting
            never changes the global numpy or torch random state. See
            :term:`Glossary <random_state>`.
        """
    ),
    "verbose": _text(
        """
        0 is silent; 1 prints skorch's table of per-epoch losses and time, one
        line per epoch.
        """
    ),
    # -- fitted attributes ----------------------------------------------------------
    "fitted_layout_attributes": _text(
        """
        classes_ : ndarray of shape (2,)
            The two class labels, sorted; ``classes_[1]`` is the class whose
            probability the model outputs.

        n_features_in_ : int
            The number of features of 2-D ``X`` (``block_size_ * n_columns_``),
            or ``n_columns_`` when fitted on bags.

        feature_names_in_ : ndarray of shape (n_features_in_,)
            Names of features seen during fit, when ``X`` has string column names.

        block_size_ : int or None
            The number of rows per sample used in fit; None when fitted on bags.
            A model fitted on bags predicts bags and 3-D blocks of any size; one
            fitted on blocks predicts blocks of its layout and bags of any size.

        n_columns_ : int
            The number of features per row used in fit.
        """
    ),
    "device_": _text(
        """
        device_ : torch.device
            The device the model lives on.
        """
    ),
}

# A docstring line that holds only a placeholder: its indent and its name.
_PLACEHOLDER = re.compile(r"^([ \t]*)\{(\w+)\}[ \t]*$", re.M)


class Substitution:
    """Decorator: replace the placeholder lines of a docstring with shared text.

    Parameters
    ----------
    **texts : str
        The text of each placeholder name.
    """

    def __init__(self, **texts):
        self.texts = texts

    def __call__(self, obj):
        if obj.__doc__:  # None under python -OO
            obj.__doc__ = _PLACEHOLDER.sub(self._replacement, obj.__doc__)
        return obj

    def _replacement(self, match):
        indent, name = match.groups()
        if name not in self.texts:
            raise KeyError(
                f"the docstring placeholder {{{name}}} has no text; the shared "
                f"texts are {sorted(self.texts)}"
            )
        return textwrap.indent(self.texts[name], indent, lambda line: line.strip())


# The set models' early stopping: a long wait for the first gain, then a short
# patience (the validation fraction's text is the shared one). Each class gives
# n_iter_no_change its own default, above the shared text of its description.
BLOCK_CLASSIFIER_DOCS["set_model_n_iter_no_change"] = _text(
    """
    After the first gain, the number of epochs without improvement after which
    training stops, or more after a late gain: at least half the epochs up to
    the last improvement. An epoch improves when it lowers the validation loss
    (the mean log-loss) of the last improvement by more than 0.01; the epoch of
    the lowest validation loss is the one kept, whether or not it lowered it by
    that much. Once a generic model has learnt, its validation loss only wanders
    around its best, or rises as it memorises; a model that gains late learns on
    in steps, with plateaus between them (see the :ref:`User Guide
    <set_model_defaults>`).
    """
)
# What max_samples_per_epoch's default does for the set models, below the
# shared text.
BLOCK_CLASSIFIER_DOCS["set_model_max_samples_per_epoch"] = _text(
    """
    The default makes an epoch at most about as long as a full pass over 2,000
    samples, so that ``n_iter_no_change`` waits for as many samples (and Adam
    steps) on larger data as on 2,000 samples (see the :ref:`User Guide
    <set_model_defaults>`).
    """
)
# The set models' stopping rule, for their Notes.
BLOCK_CLASSIFIER_DOCS["set_model_stopping_notes"] = _text(
    """
    Early stopping judges the model after every epoch of at most
    ``max_samples_per_epoch`` training samples: it waits up to
    ``n_iter_to_first_gain`` epochs for the first gain, then stops after
    ``n_iter_no_change`` epochs without lowering the validation loss by 0.01
    (or half the epochs up to the last such improvement, when that is more) and
    keeps the epoch of the lowest validation loss. Epochs of at most 2,000
    samples (the default) make that patience at least about 16,000 samples
    whatever the size of the data, as fits on 2,000 samples have (their epochs
    are full passes over 1,800); with epochs of 5,000 samples a fit on 10,000
    blocks waited 40,000 samples after its last improvement, while its
    validation loss only wandered around its best. With one row per block the
    model can wait long for its first gain and then learn in steps with
    plateaus between them, which the patience growing after a late gain
    outwaits. The wait for the first gain (``n_iter_to_first_gain="auto"``) is
    50 full passes or at most 250,000 samples (125 epochs of 2,000), which a
    plateau can need with one row per block.
    """
)
BLOCK_CLASSIFIER_DOCS["set_model_early_stopping"] = "\n".join(
    [
        _text(
            """
            early_stopping : "auto" or bool, default="auto"
                Whether to set aside ``validation_fraction`` of the training data and
                stop early (see ``n_iter_to_first_gain`` and ``n_iter_no_change``),
                keeping the parameters with the best validation loss. The initial
                parameters count as a candidate, and an epoch must lower their
                validation loss by 10% to replace them (a gain): a fit that learns
                nothing returns the (chance-level) initial model rather than one fitted
                to noise. "auto"
                enables early stopping when the validation part can hold at least two
                samples with one of each class and the rest at least two of each class,
                and trains on all samples for ``max_epochs`` otherwise; True raises an
                error when the data are too few.
"""
        ),
        "",
        BLOCK_CLASSIFIER_DOCS["validation_fraction"],
    ]
)
BLOCK_CLASSIFIER_DOCS["set_model_n_iter_to_first_gain"] = "\n".join(
    [
        _text(
            """
            n_iter_to_first_gain : int or "auto", default="auto"
"""
        ),
        textwrap.indent(BLOCK_CLASSIFIER_DOCS["n_iter_to_first_gain"], " " * 4),
        textwrap.indent(
            _text(
                """
                "auto" waits as many training samples as 50 full passes over the
                training part, at most 250,000: 50 epochs on up to
                ``max_samples_per_epoch`` training samples, and on more up to
                250,000 samples' worth of epochs (125 of 2,000 samples, 50 of
                5,000). The wait is long because the validation loss
                of a generic model first stays at chance or rises while the model
                memorises its training samples, for up to several hundred Adam steps
                and, with one row per block, up to about 200,000 samples (see the
                :ref:`User Guide <set_model_defaults>`).
"""
            ),
            " " * 4,
        ),
    ]
)

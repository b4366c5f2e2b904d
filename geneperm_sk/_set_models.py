"""DeepSetsClassifier and AttentionMILClassifier: generic set models of blocks.

Both share AbsMean's symmetry (the logit does not change when the rows of a block
are permuted) but not its row score ``|w . x_r|``: they must learn from the data
what makes a row count. Everything else comes from :class:`BlockNetClassifier`.
"""

import math
from numbers import Integral

from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions

from ._block_net import BlockNetClassifier
from ._docstrings import BLOCK_CLASSIFIER_DOCS, Substitution
from ._modules import DeepSetsModule, GatedAttentionModule

__all__ = ["AttentionMILClassifier", "DeepSetsClassifier"]

_LAYER_SIZES = [tuple, list, Interval(Integral, 1, None, closed="left")]


def _layer_sizes(estimator, name):
    """The parameter ``name`` of ``estimator`` as a tuple of positive ints."""
    sizes = getattr(estimator, name)
    if isinstance(sizes, Integral):
        return (int(sizes),)
    if not all(
        isinstance(size, Integral) and not isinstance(size, bool) and size >= 1
        for size in sizes
    ):
        raise InvalidParameterError(
            f"The {name!r} parameter of {type(estimator).__name__} must be a "
            f"positive int or a tuple of positive ints. Got {sizes!r} instead."
        )
    return tuple(int(size) for size in sizes)


# n_iter_to_first_gain="auto" waits as many training samples for the first gain
# as this many full passes over the training part, at most _MAX_WAIT_SAMPLES: 50
# epochs of at most 5,000 samples, the wait the defaults were chosen with, in
# whatever epochs max_samples_per_epoch makes.
_WAIT_PASSES = 50
_MAX_WAIT_SAMPLES = 250_000

# An epoch improves on the last improvement when it lowers the validation loss
# (mean log-loss, in nats) by this much. After a generic model has learnt, its
# validation loss wanders around its best, by about 0.005 at 4 rows of 20 columns
# and by more, relative to a loss near 0, at 8 rows: smaller dips do not start
# the patience again, though the lowest of them is the model kept.
_IMPROVEMENT = 0.01

# After the first gain the patience is at least this fraction of the epochs up to
# the last improvement. With one row per block a model can wait 30 epochs for its
# first gain and then learn in steps with plateaus of several epochs between them;
# one that gains in the third epoch is done a few epochs later.
_PATIENCE_GROWTH = 0.5


class _SetModelClassifier(BlockNetClassifier):
    """What the set models share: their layer sizes and their stopping rule."""

    _parameter_constraints: dict = {
        **BlockNetClassifier._parameter_constraints,
        "row_hidden_sizes": _LAYER_SIZES,
        "head_hidden_sizes": _LAYER_SIZES,
    }

    # A set model's first gain comes from a random start and is large; the
    # margin alone decides it, as when its defaults were measured.
    _gain_standard_errors = None

    def _validate_params(self):
        super()._validate_params()
        _layer_sizes(self, "row_hidden_sizes")
        _layer_sizes(self, "head_hidden_sizes")

    def _early_stopping_options(self, n_training_samples):
        options = {
            **super()._early_stopping_options(n_training_samples),
            "threshold": _IMPROVEMENT,
            "threshold_mode": "abs",
            "patience_growth": _PATIENCE_GROWTH,
            "restore_lowest": True,
        }
        if self.n_iter_to_first_gain == "auto":
            per_epoch = n_training_samples
            if self._samples_per_epoch() is not None:
                per_epoch = min(n_training_samples, self._samples_per_epoch())
            wait = min(_WAIT_PASSES * n_training_samples, _MAX_WAIT_SAMPLES)
            options["patience_before_gain"] = math.ceil(wait / per_epoch)
        return options


@Substitution(**BLOCK_CLASSIFIER_DOCS)
class DeepSetsClassifier(_SetModelClassifier):
    """Binary classifier of blocks of rows: ``rho(pool_r phi(x_r))``, a Deep Set.

    Each sample is a block of ``block_size`` rows of ``n_columns`` features. A
    perceptron ``phi`` embeds every row, the embeddings are pooled over the rows
    (mean, max or sum), and a perceptron ``rho`` maps the pooled vector to the
    logit of the second class (``classes_[1]``). The model is invariant to the
    order of the rows, like :class:`AbsMeanClassifier`, but does not know which
    function of a row matters: on Gene-Perm (see :func:`make_geneperm`) it has to
    learn ``|sum_i x_ri|`` from the data, and needs more samples to do so.

    The torch module is :class:`DeepSetsModule`; a
    :class:`skorch.NeuralNetBinaryClassifier` trains it with Adam and
    ``BCEWithLogitsLoss``, on mini-batches sliced from tensors moved to the device
    once.

    Read more in the :ref:`User Guide <ladder_rungs>`.

    Parameters
    ----------
    {layout_parameters}

    row_hidden_sizes : int or tuple of int, default=(64, 64)
        The widths of the layers of ``phi``, each a linear layer followed by a
        ReLU; the last is the width of the row embeddings. An int is one layer;
        an empty tuple pools the rows themselves.

    pooling : {"mean", "max", "sum"}, default="mean"
        How the row embeddings are pooled over the rows of a block.

    head_hidden_sizes : int or tuple of int, default=(64,)
        The widths of the hidden layers of ``rho`` (linear and ReLU), which ends
        in a linear layer to the logit. An empty tuple makes ``rho`` linear.

    {lr}

    max_epochs : int, default=200
        {max_epochs}

    batch_size : int, default=128
        {batch_size}

    max_samples_per_epoch : int or None, default=2_000
        {max_samples_per_epoch}
        {set_model_max_samples_per_epoch}

    {set_model_early_stopping}

    n_iter_no_change : int, default=8
        {set_model_n_iter_no_change}

    {set_model_n_iter_to_first_gain}

    {device}

    {random_state}

    verbose : int, default=0
        {verbose}

    Attributes
    ----------
    {fitted_layout_attributes}

    net_ : skorch.NeuralNetBinaryClassifier
        The trained net. ``net_.history`` holds, per epoch, the training loss,
        the validation loss when early stopping is on, and timings;
        ``net_.module_`` is the fitted :class:`DeepSetsModule`.

    {device_}

    See Also
    --------
    AbsMeanClassifier : The set model whose row score is ``|w . x_r|``, the
        inductive bias of Gene-Perm.
    AttentionMILClassifier : Rows pooled with learned attention weights.
    RowSecondMoments : The pooled quadratic features of the rows, for a linear
        model.

    Notes
    -----
    For a block ``x`` with rows ``x_1, ..., x_b`` the logit is
    ``s = rho(pool_r phi(x_r))`` (Zaheer et al., 2017, "Deep Sets"), and the
    probability of ``classes_[1]`` is ``sigmoid(s)``. A ReLU layer can represent
    Gene-Perm's row score exactly, ``|1 . x_r| = relu(1 . x_r) + relu(-1 . x_r)``,
    so the model can reach the Bayes-optimal accuracy; what it lacks is the
    prior that puts it there from a few hundred samples.

    {set_model_stopping_notes}

    The defaults were chosen by measurement on Gene-Perm data; the measurements
    are in the :ref:`User Guide <set_model_defaults>`.

    Examples
    --------
    >>> from geneperm_sk import DeepSetsClassifier, make_geneperm
    >>> X, y, table = make_geneperm(
    ...     2000, n_columns=10, block_size=4, return_table=True, random_state=0)
    >>> clf = DeepSetsClassifier(n_columns=10, device="cpu", random_state=0)
    >>> clf.fit(X, y).block_size_
    4
    >>> X_test, y_test = make_geneperm(2000, block_size=4, table=table, random_state=1)
    >>> bool(clf.score(X_test, y_test) > 0.9)
    True
    """

    _parameter_constraints: dict = {
        **_SetModelClassifier._parameter_constraints,
        "pooling": [StrOptions({"mean", "max", "sum"})],
    }

    def __init__(
        self,
        *,
        block_size=None,
        n_columns=None,
        row_hidden_sizes=(64, 64),
        pooling="mean",
        head_hidden_sizes=(64,),
        lr=0.01,
        max_epochs=200,
        batch_size=128,
        max_samples_per_epoch=2_000,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=8,
        n_iter_to_first_gain="auto",
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.block_size = block_size
        self.n_columns = n_columns
        self.row_hidden_sizes = row_hidden_sizes
        self.pooling = pooling
        self.head_hidden_sizes = head_hidden_sizes
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.max_samples_per_epoch = max_samples_per_epoch
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.n_iter_to_first_gain = n_iter_to_first_gain
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _make_module(self, n_columns):
        return DeepSetsModule(
            n_columns,
            row_hidden_sizes=_layer_sizes(self, "row_hidden_sizes"),
            pooling=self.pooling,
            head_hidden_sizes=_layer_sizes(self, "head_hidden_sizes"),
        )


@Substitution(**BLOCK_CLASSIFIER_DOCS)
class AttentionMILClassifier(_SetModelClassifier):
    """Binary classifier of blocks of rows with gated attention pooling (deep MIL).

    Each sample is a block (a bag, in multiple-instance terms) of ``block_size``
    rows of ``n_columns`` features. A perceptron ``phi`` embeds every row, a
    gated attention network weighs the rows, and a linear map (or perceptron)
    ``rho`` of the weighted mean of the embeddings is the logit of the second
    class (``classes_[1]``). This is the attention-based deep MIL model of Ilse,
    Tomczak and Welling (2018), the standard deep multiple-instance baseline.
    Like :class:`AbsMeanClassifier` it is invariant to the order of the rows; it
    has to learn from the data which rows matter and why.

    The torch module is :class:`GatedAttentionModule`; a
    :class:`skorch.NeuralNetBinaryClassifier` trains it with Adam and
    ``BCEWithLogitsLoss``, on mini-batches sliced from tensors moved to the device
    once.

    Read more in the :ref:`User Guide <ladder_rungs>`.

    Parameters
    ----------
    {layout_parameters}

    row_hidden_sizes : int or tuple of int, default=(64, 64)
        The widths of the layers of ``phi``, each a linear layer followed by a
        ReLU; the last is the width of the row embeddings (``M`` in the paper).
        An int is one layer; an empty tuple attends to the rows themselves.

    attention_size : int, default=64
        The width of the attention's hidden layer (``L`` in the paper, which used
        128 on image patches embedded in 500 numbers).

    head_hidden_sizes : int or tuple of int, default=()
        The widths of the hidden layers of ``rho`` (linear and ReLU), which ends
        in a linear layer to the logit. The default, empty, makes ``rho`` linear
        as in the paper.

    {lr}

    max_epochs : int, default=200
        {max_epochs}

    batch_size : int, default=64
        {batch_size}

    max_samples_per_epoch : int or None, default=2_000
        {max_samples_per_epoch}
        {set_model_max_samples_per_epoch}

    {set_model_early_stopping}

    n_iter_no_change : int, default=8
        {set_model_n_iter_no_change}

    {set_model_n_iter_to_first_gain}

    {device}

    {random_state}

    verbose : int, default=0
        {verbose}

    Attributes
    ----------
    {fitted_layout_attributes}

    net_ : skorch.NeuralNetBinaryClassifier
        The trained net. ``net_.history`` holds, per epoch, the training loss,
        the validation loss when early stopping is on, and timings;
        ``net_.module_`` is the fitted :class:`GatedAttentionModule`.

    {device_}

    See Also
    --------
    AbsMeanClassifier : The set model whose row score is ``|w . x_r|``, the
        inductive bias of Gene-Perm.
    DeepSetsClassifier : Rows pooled by a fixed mean, max or sum.

    Notes
    -----
    For a block ``x`` with rows ``x_1, ..., x_b`` and embeddings
    ``h_r = phi(x_r)`` the gated attention weights are

    ``a_r = softmax_r(w . (tanh(V h_r + b_V) * sigmoid(U h_r + b_U)) + b_w)``,

    the pooled embedding is ``z = sum_r a_r h_r`` and the logit is
    ``s = rho(z)``; the probability of ``classes_[1]`` is ``sigmoid(s)``.
    :meth:`row_scores` (and its alias :meth:`row_attention`) returns the
    weights ``a_r``.

    {set_model_stopping_notes}

    The defaults were chosen by measurement on Gene-Perm data; the measurements
    are in the :ref:`User Guide <set_model_defaults>`.

    References
    ----------
    M. Ilse, J. M. Tomczak and M. Welling, "Attention-based Deep Multiple
    Instance Learning", ICML 2018.

    Examples
    --------
    >>> from geneperm_sk import AttentionMILClassifier, make_geneperm
    >>> X, y, table = make_geneperm(
    ...     2000, n_columns=10, block_size=4, return_table=True, random_state=0)
    >>> clf = AttentionMILClassifier(n_columns=10, device="cpu", random_state=0)
    >>> clf.fit(X, y).row_scores(X[:2]).shape
    (2, 4)
    >>> X_test, y_test = make_geneperm(2000, block_size=4, table=table, random_state=1)
    >>> bool(clf.score(X_test, y_test) > 0.9)
    True
    """

    _parameter_constraints: dict = {
        **_SetModelClassifier._parameter_constraints,
        "attention_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        block_size=None,
        n_columns=None,
        row_hidden_sizes=(64, 64),
        attention_size=64,
        head_hidden_sizes=(),
        lr=0.01,
        max_epochs=200,
        batch_size=64,
        max_samples_per_epoch=2_000,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=8,
        n_iter_to_first_gain="auto",
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.block_size = block_size
        self.n_columns = n_columns
        self.row_hidden_sizes = row_hidden_sizes
        self.attention_size = attention_size
        self.head_hidden_sizes = head_hidden_sizes
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.max_samples_per_epoch = max_samples_per_epoch
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.n_iter_to_first_gain = n_iter_to_first_gain
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # row_scores gives each row's attention weight.
    _has_row_scores = True

    def _make_module(self, n_columns):
        return GatedAttentionModule(
            n_columns,
            row_hidden_sizes=_layer_sizes(self, "row_hidden_sizes"),
            attention_size=self.attention_size,
            head_hidden_sizes=_layer_sizes(self, "head_hidden_sizes"),
        )

    def row_attention(self, X):
        """The attention weight ``a_r`` of every row: the same as :meth:`row_scores`.

        Parameters
        ----------
        X : array-like of shape (n_samples, block_size * n_columns_) or \
                (n_samples, block_size, n_columns_), or sequence of bags
            The blocks, or a list of 2-D bags of any sizes.

        Returns
        -------
        weights : ndarray of shape (n_samples, block_size), or list of ndarray
            Non-negative weights; each block's (bag's) sum to 1. The rows the
            model pools, in multiple-instance terms the instances it finds
            telling. For bags, one 1-D array per bag.
        """
        return self.row_scores(X)

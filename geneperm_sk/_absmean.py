"""AbsMeanClassifier: the block classifier with Gene-Perm's inductive bias."""

import numpy as np
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from ._block_net import BlockNetClassifier
from ._callbacks import RecordRowWeights
from ._docstrings import BLOCK_CLASSIFIER_DOCS, Substitution
from ._modules import AbsMeanModule, set_parameters
from ._spectral import spectral_start

__all__ = ["AbsMeanClassifier"]

# What max_samples_per_epoch="auto" means. After the spectral start an epoch is
# mostly a check of whether training gains on a start already at the ceiling:
# with the paired test no trained epoch replaced such a start (the User Guide),
# and epochs of 1,024 samples kept every fit of benchmarks/bench_reliability.py
# within a point of the ceiling and its sample-efficiency table as it was, where
# the 20 Adam steps of an epoch of 5,000 were most of a fit on 10,000 samples
# (benchmarks/bench_fit_scale.py). A random start needs the long training it
# had, in the epochs it had.
SPECTRAL_START_EPOCH_SAMPLES = 1_024
RANDOM_START_EPOCH_SAMPLES = 5_000


@Substitution(**BLOCK_CLASSIFIER_DOCS)
class AbsMeanClassifier(BlockNetClassifier):
    """Binary classifier of blocks of rows: ``sigmoid(a * mean_r |w @ x_r + b1| + c)``.

    Each sample is a block of ``block_size`` rows of ``n_columns`` features. A
    row-wise linear score is taken in absolute value and averaged over the block; an
    affine map of that mean is the logit of the second class (``classes_[1]``). The
    model is a DeepSets-style set function with the inductive bias of the Gene-Perm
    problem (see :func:`make_geneperm`), where it reaches the Bayes-optimal accuracy
    that linear models and forests cannot approach.

    The torch module is :class:`AbsMeanModule`; a
    :class:`skorch.NeuralNetBinaryClassifier` trains it with Adam and
    ``BCEWithLogitsLoss``, on mini-batches sliced from tensors moved to the device
    once.

    Read more in the :ref:`User Guide <absmean>`.

    Parameters
    ----------
    {layout_parameters}

    init : {"spectral", "random"}, default="spectral"
        How the parameters are initialised before gradient training.

        - "spectral": the row weights are the top generalised eigenvector of the
          second moments of rows from second-class blocks against rows from
          first-class blocks (with a constant feature for the bias), and the
          output affine is fitted by logistic regression on the pooled scores. On
          Gene-Perm this puts ``w`` parallel to the all-ones vector before the first
          epoch, and fits succeed reliably.
        - "random": PyTorch's default initialisation, for studying the learning
          dynamics. On Gene-Perm it misses the ceiling on most seeds (see the
          :ref:`User Guide <absmean>`).

    {lr}

    max_epochs : int, default=20
        {max_epochs}

    batch_size : int, default=256
        {batch_size}

    max_samples_per_epoch : int, None or "auto", default="auto"
        {max_samples_per_epoch}
        "auto" is 1,024 after the spectral start and 5,000 after a random one
        (``init="random"``). The spectral start is usually at the ceiling
        already, so its first epoch only checks whether training gains on it,
        and a short epoch checks as well as a long one: the samples come in the
        same order either way, the next ones of one running order. Patience
        (``n_iter_no_change``) and ``max_epochs`` count these epochs: with the
        defaults a fit from the spectral start stops after 5,120 samples
        without improvement and trains on at most 20,480, one from a random
        start on 100,000.

    early_stopping : "auto" or bool, default="auto"
        {early_stopping}

    {validation_fraction}

    n_iter_no_change : int, default=5
        {n_iter_no_change}

    n_iter_to_first_gain : int or "auto", default="auto"
        {n_iter_to_first_gain}
        "auto" waits one epoch after the spectral start, which is usually at
        the ceiling already, so that a longer wait only costs time; after a
        random start (``init="random"``) it waits ``max_epochs``: such a start
        has nothing worth keeping.

    {device}

    {random_state}

    verbose : int, default=0
        0 is silent; 1 prints skorch's table of per-epoch losses and time, one line
        per epoch (the row weights are recorded in the history, not printed).

    Attributes
    ----------
    {fitted_layout_attributes}

    net_ : skorch.NeuralNetBinaryClassifier
        The trained net. ``net_.history`` holds, per epoch, the training loss
        (``net_.history[:, "train_loss"]``), the validation loss when early
        stopping is on, the row weights at the end of the epoch
        (``net_.history[:, "row_weights"]``) and timings; ``net_.module_`` is the
        fitted :class:`AbsMeanModule`.

    {device_}

    coef_ : ndarray of shape (n_columns_,)
        The row weights ``w``. On Gene-Perm a successful fit has ``coef_``
        parallel to the all-ones vector (up to sign): balanced rows then score 0
        and every changed row scores the same nonzero value.

    intercept_ : float
        The row bias ``b1``.

    output_coef_ : float
        The output weight ``a`` applied to the mean absolute row score.

    output_intercept_ : float
        The output bias ``c``.

    See Also
    --------
    make_geneperm : Draw Gene-Perm data.
    bayes_accuracy : The best accuracy any classifier can reach on it.

    Notes
    -----
    For a block ``x`` the logit is ``s = a * mean_r |w . x_r + b1| + c`` and the
    probability of ``classes_[1]`` is ``sigmoid(s)``. ``decision_function`` returns
    ``s`` and ``predict`` the second class where ``s > 0``.

    On Gene-Perm, rows of negative blocks sum to 0 and a changed row of a positive
    block sums to ±2, so with ``w`` proportional to the all-ones vector and
    ``b1 = 0`` the mean absolute score is 0 exactly for blocks whose rows are all
    balanced and positive otherwise: the Bayes-optimal rule.

    :meth:`row_scores` returns each row's ``|w . x_r + b1|``: on Gene-Perm, 0
    for a balanced row and about the same positive value for every changed one.

    Examples
    --------
    >>> from geneperm_sk import AbsMeanClassifier, bayes_accuracy, make_geneperm
    >>> X, y, table = make_geneperm(
    ...     2000, n_columns=10, block_size=4, return_table=True, random_state=0)
    >>> clf = AbsMeanClassifier(n_columns=10, device="cpu", random_state=0).fit(X, y)
    >>> clf.block_size_
    4
    >>> X_test, y_test = make_geneperm(2000, block_size=4, table=table, random_state=1)
    >>> bool(clf.score(X_test, y_test) > bayes_accuracy(4) - 0.02)
    True

    Bags of any size, and the score ``|w . x_r + b1|`` of each of their rows:

    >>> bags = [X_test[0].reshape(4, 10), X_test[1].reshape(4, 10)[:2]]
    >>> clf.predict(bags).shape
    (2,)
    >>> [scores.shape for scores in clf.row_scores(bags)]
    [(4,), (2,)]
    """

    _parameter_constraints: dict = {
        **BlockNetClassifier._parameter_constraints,
        "init": [StrOptions({"spectral", "random"})],
        "max_samples_per_epoch": [
            *BlockNetClassifier._parameter_constraints["max_samples_per_epoch"],
            StrOptions({"auto"}),
        ],
    }

    # |w . x + b1| is non-finite for any non-finite entry of x, and so is the logit.
    _nonfinite_input_gives_nonfinite_score = True

    # row_scores gives each row's |w . x_r + b1|.
    _has_row_scores = True

    def __init__(
        self,
        *,
        block_size=None,
        n_columns=None,
        init="spectral",
        lr=0.01,
        max_epochs=20,
        batch_size=256,
        max_samples_per_epoch="auto",
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=5,
        n_iter_to_first_gain="auto",
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.block_size = block_size
        self.n_columns = n_columns
        self.init = init
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
        return AbsMeanModule(n_columns)

    def _initialize_module(self, module, X, y, train_indices):
        # The spectral start is scaled with X by itself; a random one is scaled
        # as every model's is. The spectral start is estimated from all the
        # samples, the validation part included: it is an estimate of the
        # direction, not a fit that early stopping has to validate, and from
        # the training part alone it missed the all-ones direction on some
        # training sets of 32 to 48 samples where all of them found it
        # (benchmarks/bench_small_fits.py). Its validation loss is then a
        # little optimistic, which only favours keeping it, as the margin does.
        # The input scale then comes from the entries the start read.
        if self.init != "spectral":
            return super()._initialize_module(module, X, y, train_indices)
        parameters, scale = spectral_start(X, y)
        set_parameters(module, **parameters)
        return scale

    def _samples_per_epoch(self):
        if self.max_samples_per_epoch != "auto":
            return self.max_samples_per_epoch
        if self.init == "spectral":
            return SPECTRAL_START_EPOCH_SAMPLES
        return RANDOM_START_EPOCH_SAMPLES

    def _early_stopping_options(self, n_training_samples):
        options = super()._early_stopping_options(n_training_samples)
        if self.n_iter_to_first_gain == "auto" and self.init == "spectral":
            # The spectral start is usually at the ceiling already: one epoch
            # (up to 1,024 samples with "auto" epochs) for training to gain on it.
            # A random start has nothing to keep: "auto" waits as long as
            # training runs, as for any model.
            options["patience_before_gain"] = 1
        return options

    def _extra_callbacks(self):
        # The row weights are kept in the history, not printed in the epoch table.
        return [("row_weights", RecordRowWeights())], ["row_weights"]

    # -- what it learned ---------------------------------------------------------

    @property
    def coef_(self):
        check_is_fitted(self)
        weights = self.net_.module_.row_linear.weight.detach().cpu().numpy()
        return weights.reshape(-1).astype(np.float64)

    @property
    def intercept_(self):
        check_is_fitted(self)
        return float(self.net_.module_.row_linear.bias.detach().cpu()[0])

    @property
    def output_coef_(self):
        check_is_fitted(self)
        return float(self.net_.module_.output_linear.weight.detach().cpu()[0, 0])

    @property
    def output_intercept_(self):
        check_is_fitted(self)
        return float(self.net_.module_.output_linear.bias.detach().cpu()[0])

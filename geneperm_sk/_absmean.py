"""AbsMeanClassifier: a scikit-learn classifier training AbsMeanModule with skorch."""

import math
from numbers import Integral, Real

import numpy as np
import scipy.sparse
import torch
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNetBinaryClassifier
from skorch.dataset import Dataset
from skorch.helper import predefined_split
from torch.nn.functional import binary_cross_entropy_with_logits

from ._batching import TensorBatchIterator
from ._callbacks import EarlyStoppingFromInitialParameters, RecordRowWeights
from ._module import AbsMeanModule, set_parameters
from ._spectral import spectral_parameters

__all__ = ["AbsMeanClassifier"]

# Blocks per forward pass at prediction time: large enough to amortise the per-batch
# overhead, small enough to bound memory for any data size.
_PREDICT_BATCH_SIZE = 8192

# With early stopping, an epoch replaces the initial parameters only if it lowers
# their validation loss by this fraction: on validation sets of a few dozen samples
# smaller gains are noise, and accepting them moved the spectral start off the
# all-ones direction (benchmarks/bench_early_stopping.py).
_INITIAL_LOSS_MARGIN = 0.1


def _resolve_device(device):
    if isinstance(device, torch.device):
        resolved = device
    elif device == "auto":
        resolved = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        try:
            resolved = torch.device(device)
        except RuntimeError as error:
            raise ValueError(
                "The 'device' parameter of AbsMeanClassifier must be 'auto' or a "
                f"torch device such as 'cpu' or 'cuda'. Got {device!r} instead."
            ) from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"The 'device' parameter of AbsMeanClassifier is {device!r}, but CUDA is "
            "not available on this machine. Use device='cpu' or device='auto'."
        )
    return resolved


def _seed_from(random_state):
    """An int seed: fixed for an int, drawn from a RandomState instance, fresh for
    None (from the operating system, leaving numpy's global state untouched)."""
    if random_state is None:
        return int(np.random.default_rng().integers(2**31))
    return int(check_random_state(random_state).randint(2**31))


class AbsMeanClassifier(ClassifierMixin, BaseEstimator):
    """Binary classifier of blocks of rows: ``sigmoid(a * mean_r |w . x_r + b1| + c)``.

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

    Parameters
    ----------
    block_size : int, default=None
        The number of rows per sample. With 2-D ``X`` of shape
        ``(n_samples, block_size * n_columns)``, exactly one of ``block_size`` and
        ``n_columns`` must be given and the other is inferred from the width of
        ``X``. With 3-D ``X`` of shape ``(n_samples, block_size, n_columns)``
        neither is needed, and a given value must agree with the shape.

    n_columns : int, default=None
        The number of features per row. See ``block_size``.

    init : {"spectral", "random"}, default="spectral"
        How the parameters are initialised before gradient training.

        - "spectral": the row weights are the top generalised eigenvector of the
          second moments of rows from second-class blocks against rows from
          first-class blocks (with a constant feature for the bias), and the
          output affine is fitted by logistic regression on the pooled scores. On
          Gene-Perm this puts ``w`` parallel to the all-ones vector before the first
          epoch, and fits succeed reliably.
        - "random": PyTorch's default initialisation, for studying the learning
          dynamics. On Gene-Perm it stalls at chance on about half of the seeds.

    lr : float, default=0.01
        The Adam learning rate.

    max_epochs : int, default=20
        The number of passes over the training data. 0 keeps the initial
        parameters.

    batch_size : int, default=256
        The number of samples per mini-batch.

    device : "auto", str or torch.device, default="auto"
        Where to train and predict: "auto" uses CUDA when available and the CPU
        otherwise; "cpu", "cuda", "cuda:1" or a :class:`torch.device` choose. A
        model fitted on CUDA can be pickled and loaded on a machine without a GPU;
        it then predicts on the CPU.

    early_stopping : "auto" or bool, default="auto"
        Whether to set aside ``validation_fraction`` of the training data and
        stop when the validation loss has not improved for ``n_iter_no_change``
        epochs, keeping the parameters with the best validation loss. The
        parameters before the first epoch count, and an epoch must lower their
        validation loss by 10% to replace them, so that noise on a small
        validation set does not. On Gene-Perm after the spectral initialisation
        they are usually kept: gradient steps there mostly fit noise (with
        5,000 samples of 256 columns they cost several points of accuracy).
        "auto" enables early stopping when
        the validation part can hold at least two samples with one of each class
        and the rest at least two of each class, and trains on all samples for
        ``max_epochs`` otherwise; True raises an error when the data are too few.

    validation_fraction : float, default=0.1
        The fraction of the training samples set aside (stratified) for early
        stopping.

    n_iter_no_change : int, default=5
        The number of epochs without improvement of the validation loss after
        which training stops.

    random_state : int, RandomState instance or None, default=None
        Controls the random initialisation, the validation split and the order
        of mini-batches. Pass an int for reproducible fits. Fitting never changes
        the global numpy or torch random state. See :term:`Glossary <random_state>`.

    verbose : int, default=0
        0 is silent; 1 prints skorch's table of per-epoch training loss and time.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two class labels, sorted; ``classes_[1]`` is the class whose
        probability the model outputs.

    n_features_in_ : int
        The number of features of 2-D ``X`` (``block_size_ * n_columns_``).

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    block_size_ : int
        The number of rows per sample used in fit.

    n_columns_ : int
        The number of features per row used in fit.

    net_ : skorch.NeuralNetBinaryClassifier
        The trained net. ``net_.history`` holds, per epoch, the training loss
        (``net_.history[:, "train_loss"]``), the validation loss when early
        stopping is on, the row weights at the end of the epoch
        (``net_.history[:, "row_weights"]``) and timings; ``net_.module_`` is the
        fitted :class:`AbsMeanModule`.

    device_ : torch.device
        The device the model lives on.

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
    block sums to +-2, so with ``w`` proportional to the all-ones vector and
    ``b1 = 0`` the mean absolute score is 0 exactly for blocks whose rows are all
    balanced and positive otherwise: the Bayes-optimal rule.

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
    """

    _parameter_constraints: dict = {
        "block_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_columns": [Interval(Integral, 1, None, closed="left"), None],
        "init": [StrOptions({"spectral", "random"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        block_size=None,
        n_columns=None,
        init="spectral",
        lr=0.01,
        max_epochs=20,
        batch_size=256,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=5,
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
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- input -------------------------------------------------------------------

    @staticmethod
    def _flatten_blocks(X):
        """Return ``(X, layout)``: 3-D input reshaped to 2-D with its layout
        ``(block_size, n_columns)``, other input unchanged with layout None."""
        if isinstance(X, list | tuple):
            X = np.asarray(X)
        if scipy.sparse.issparse(X) or getattr(X, "ndim", None) != 3:
            return X, None
        return X.reshape(X.shape[0], -1), tuple(int(size) for size in X.shape[1:])

    def _fit_layout(self, layout, n_features):
        """Work out ``(block_size, n_columns)`` for fit from the data and params."""
        if layout is not None:
            for name, value, size in zip(
                ("block_size", "n_columns"),
                (self.block_size, self.n_columns),
                layout,
                strict=True,
            ):
                if value is not None and value != size:
                    raise ValueError(
                        f"AbsMeanClassifier got 3-D X of shape (n_samples, "
                        f"{layout[0]}, {layout[1]}), which sets {name}={size}, but "
                        f"{name}={value} was given."
                    )
            return layout
        if (self.block_size is None) == (self.n_columns is None):
            raise ValueError(
                "AbsMeanClassifier needs exactly one of block_size and n_columns to "
                "split 2-D X of shape (n_samples, block_size * n_columns) into rows; "
                f"got block_size={self.block_size} and n_columns={self.n_columns}. "
                "Pass one of them, or 3-D X of shape (n_samples, block_size, "
                "n_columns)."
            )
        given_name, given = (
            ("block_size", self.block_size)
            if self.block_size is not None
            else ("n_columns", self.n_columns)
        )
        if n_features % given:
            raise ValueError(
                f"AbsMeanClassifier got X with {n_features} features, which is not a "
                f"multiple of {given_name}={given}."
            )
        inferred = n_features // given
        if self.block_size is not None:
            return given, inferred
        return inferred, given

    def _validated_blocks(self, X):
        """Validate X for prediction and return it as a float32 tensor of blocks."""
        check_is_fitted(self)
        X, layout = self._flatten_blocks(X)
        if layout is not None and layout != (self.block_size_, self.n_columns_):
            raise ValueError(
                f"AbsMeanClassifier was fitted on blocks of {self.block_size_} rows "
                f"of {self.n_columns_} columns, but got 3-D X of shape "
                f"(n_samples, {layout[0]}, {layout[1]})."
            )
        X = validate_data(self, X, dtype=np.float32, reset=False)
        return self._to_tensor(X, self.device_)

    def _to_tensor(self, X, device):
        # Read-only input (such as a memory map) is copied: torch needs writable
        # memory to share it.
        if not X.flags.writeable:
            X = X.copy()
        blocks = torch.from_numpy(X).reshape(-1, self.block_size_, self.n_columns_)
        return blocks.to(device)

    # -- fit ---------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the model to blocks ``X`` with labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, block_size * n_columns) or \
                (n_samples, block_size, n_columns)
            The training blocks.

        y : array-like of shape (n_samples,)
            The labels, of exactly two classes.

        Returns
        -------
        self : AbsMeanClassifier
            The fitted classifier.
        """
        X, layout = self._flatten_blocks(X)
        X, y = validate_data(self, X, y, dtype=np.float32)
        self.block_size_, self.n_columns_ = self._fit_layout(layout, X.shape[1])
        check_classification_targets(y)
        target_type = type_of_target(y, input_name="y")
        if target_type != "binary":
            raise ValueError(
                "Only binary classification is supported. The type of the target "
                f"is {target_type}."
            )
        self.classes_, y_encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) != 2:
            raise ValueError(
                "AbsMeanClassifier is a binary classifier and needs exactly 2 classes "
                f"in y; got 1 class: {self.classes_.tolist()}."
            )
        self.device_ = _resolve_device(self.device)
        seed = _seed_from(self.random_state)

        X_tensor = self._to_tensor(X, self.device_)
        y_tensor = torch.as_tensor(y_encoded, dtype=torch.float32, device=self.device_)
        callbacks, train_split = [("row_weights", RecordRowWeights())], None
        if self._uses_early_stopping(y_encoded):
            train, valid = self._validation_split(y_encoded, seed)
            X_valid, y_valid = X_tensor[valid], y_tensor[valid]
            X_tensor, y_tensor = X_tensor[train], y_tensor[train]
            train_split = predefined_split(Dataset(X_valid, y_valid))

        forked_devices = [self.device_] if self.device_.type == "cuda" else []
        with torch.random.fork_rng(devices=forked_devices):
            torch.manual_seed(seed)
            module = AbsMeanModule(self.n_columns_).to(self.device_)
        if self.init == "spectral":
            set_parameters(module, **spectral_parameters(X_tensor, y_tensor))
        if train_split is not None:
            with torch.no_grad():
                initial_loss = binary_cross_entropy_with_logits(
                    module(X_valid), y_valid
                ).item()
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStoppingFromInitialParameters(
                        initial_loss,
                        initial_margin=_INITIAL_LOSS_MARGIN,
                        patience=self.n_iter_no_change,
                    ),
                )
            )

        self.net_ = NeuralNetBinaryClassifier(
            module,
            optimizer=torch.optim.Adam,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=train_split,
            callbacks=callbacks,
            # The validation loss drives early stopping; accuracy is not needed.
            callbacks__valid_acc=None,
            iterator_train=TensorBatchIterator,
            iterator_train__shuffle=True,
            iterator_train__random_state=np.random.default_rng(seed),
            iterator_valid=TensorBatchIterator,
            iterator_valid__batch_size=_PREDICT_BATCH_SIZE,
            device=self.device_,
            verbose=self.verbose,
        )
        self.net_.fit(X_tensor, y_tensor)
        # The validation split holds training tensors (on the training device):
        # keep them out of the fitted model and its pickles.
        self.net_.train_split = None
        return self

    def _validation_size(self, y_encoded):
        """Validation samples needed, and whether a stratified split can hold them:
        at least one sample of each class on either side."""
        n_samples = len(y_encoded)
        n_valid = math.ceil(self.validation_fraction * n_samples)
        smallest_class = np.bincount(y_encoded).min()
        feasible = n_valid >= 2 and n_samples - n_valid >= 2 and smallest_class >= 2
        return n_valid, feasible

    def _uses_early_stopping(self, y_encoded):
        if self.max_epochs == 0 or self.early_stopping is False:
            return False
        if self.early_stopping == "auto":
            return self._validation_size(y_encoded)[1]
        return True

    def _validation_split(self, y_encoded, seed):
        """Stratified train and validation indices for early stopping."""
        n_samples = len(y_encoded)
        n_valid, feasible = self._validation_size(y_encoded)
        smallest_class = np.bincount(y_encoded).min()
        if not feasible:
            raise ValueError(
                f"AbsMeanClassifier with early_stopping=True sets aside "
                f"validation_fraction={self.validation_fraction} of the samples for "
                "validation, which needs at least 2 samples in each part and 2 of "
                f"each class; got {n_samples} samples with {smallest_class} in the "
                "smallest class. Pass early_stopping=False to train on data this "
                "small."
            )
        return train_test_split(
            np.arange(n_samples),
            test_size=n_valid,
            stratify=y_encoded,
            random_state=seed,
        )

    # -- prediction --------------------------------------------------------------

    def decision_function(self, X):
        """The logit of ``classes_[1]`` for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, block_size_ * n_columns_) or \
                (n_samples, block_size_, n_columns_)
            The blocks.

        Returns
        -------
        logits : ndarray of shape (n_samples,)
            ``a * mean_r |w . x_r + b1| + c``; positive values predict
            ``classes_[1]``.
        """
        blocks = self._validated_blocks(X)
        logits = self.net_.forward(blocks, training=False, device="cpu")
        return logits.numpy().astype(np.float64)

    def predict_proba(self, X):
        """Class probabilities for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, block_size_ * n_columns_) or \
                (n_samples, block_size_, n_columns_)
            The blocks.

        Returns
        -------
        probabilities : ndarray of shape (n_samples, 2)
            The probabilities of ``classes_[0]`` and ``classes_[1]``.
        """
        positive = expit(self.decision_function(X))
        return np.column_stack([1 - positive, positive])

    def predict(self, X):
        """The predicted class label of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, block_size_ * n_columns_) or \
                (n_samples, block_size_, n_columns_)
            The blocks.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            ``classes_[1]`` where the logit is positive, ``classes_[0]`` elsewhere.
        """
        is_second_class = self.decision_function(X) > 0
        return self.classes_[is_second_class.astype(np.intp)]

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

    # -- scikit-learn plumbing ---------------------------------------------------

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.three_d_array = True
        return tags

    def __setstate__(self, state):
        # skorch loads a net fitted on CUDA onto the CPU when no GPU is present;
        # follow it so that prediction inputs go where the module is.
        super().__setstate__(state)
        if "net_" in state:
            self.device_ = torch.device(self.net_.device)

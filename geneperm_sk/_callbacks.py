"""skorch callbacks used by the block classifiers."""

import math

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping

__all__ = [
    "EarlyStoppingFromInitialParameters",
    "RecordRowWeights",
    "StopOnDivergence",
    "StopTraining",
    "TrainingDiverged",
]


class StopTraining(Exception):
    """Raised by a callback to end training early, as planned.

    skorch's own callbacks raise ``KeyboardInterrupt`` for this and skorch catches
    it, which also swallows a real Ctrl-C; the nets of this library catch this
    exception instead and let ``KeyboardInterrupt`` through.
    """


class TrainingDiverged(Exception):
    """Raised inside skorch's training loop when the loss or the parameters stop
    being finite; the estimator turns it into an error that names its settings.

    Parameters
    ----------
    epoch : int
        The epoch (from 1) in which training diverged.

    what : str
        What was found non-finite.
    """

    def __init__(self, epoch, what):
        super().__init__(f"epoch {epoch}: {what}")
        self.epoch = epoch
        self.what = what


class StopOnDivergence(Callback):
    """Stop training as soon as a batch loss or, at an epoch's end, a parameter is
    not finite, by raising :class:`TrainingDiverged`.

    Training on after that point only spends time: every later step is NaN.
    """

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs):
        # skorch passes the batch's loss tensor; reading it back from the history
        # costs more than the rest of this check.
        if not training:
            return
        loss = loss.item()
        if not math.isfinite(loss):
            epoch = len(net.history)
            raise TrainingDiverged(epoch, f"the training loss became {loss}")

    def on_epoch_end(self, net, **kwargs):
        for name, parameter in net.module_.named_parameters():
            if not bool(torch.isfinite(parameter).all()):
                epoch = len(net.history)
                raise TrainingDiverged(epoch, f"the parameter {name!r} is not finite")


class RecordRowWeights(Callback):
    """Store a copy of the row weights ``w`` in the history at every epoch's end,
    as ``net.history[:, "row_weights"]``, to follow what the model learns."""

    def on_epoch_end(self, net, **kwargs):
        weights = net.module_.row_linear.weight.detach().cpu().numpy()
        net.history.record("row_weights", weights.reshape(-1).copy())


class EarlyStoppingFromInitialParameters(EarlyStopping):
    """skorch's ``EarlyStopping`` with the parameters before the first epoch as the
    first candidate.

    skorch's callback compares epochs with each other, so when training only ever
    makes a good initialisation worse it still restores the best *trained* epoch.
    Here the validation score of the initial parameters is the score to beat:
    when training ends, they are restored unless the best epoch is a *gain*: it
    improved on them by the relative ``initial_margin`` and, when per-sample
    losses are given, by more than ``gain_standard_errors`` standard errors of
    the paired differences. When to stop is decided as by skorch (``patience``
    epochs without an improvement by ``threshold``, in ``threshold_mode``),
    unless ``patience_before_gain`` or ``patience_growth`` is given.

    Parameters
    ----------
    initial_score : float
        The monitored score (a loss: lower is better) of the parameters before
        training.

    initial_margin : float, default=0.0
        The relative improvement on ``initial_score`` that the best epoch must
        reach to replace the initial parameters.

    patience_before_gain : int, default=None
        The number of epochs to wait for a gain. Until the first gain, training
        stops only when this many epochs have run; from it on, after
        ``patience`` epochs without improvement. A model that first has to
        leave a plateau (generic networks memorise for a while before they
        generalise) then gets a long wait for that, and a short one after it,
        where the validation loss only wanders around its best. None stops
        after ``patience`` epochs without improvement throughout, as skorch.

    initial_losses : array-like of shape (n_valid,), default=None
        The per-sample validation losses of the initial parameters, whose mean
        is ``initial_score``. With ``sample_losses``, an epoch that beats the
        margin is a gain only if its mean paired improvement over these
        losses, ``initial_losses - sample_losses(module)``, exceeds
        ``gain_standard_errors`` times its standard error: on a validation
        part of a few samples a 10% lower mean is often the luck of one sample.
        None (the default) judges by the margin alone.

    sample_losses : callable, default=None
        ``sample_losses(module)`` returns the per-sample validation losses of
        the module, on the samples and in the order of ``initial_losses``. It
        is called only for an epoch that beats the margin before a gain, or
        that is the best so far and beats the margin. Both are dropped when
        training ends.

    gain_standard_errors : float, default=2.0
        How many standard errors of the paired differences the mean
        improvement must exceed, with ``initial_losses``.

    patience_growth : float, default=None
        After the first gain, wait at least this fraction of the epochs up to
        the last improvement, ``ceil(patience_growth * epoch)``, when that is
        more than ``patience``: a model that took long to start learning also
        learns on in steps with plateaus between them, while one that learnt at
        once is done soon. None waits ``patience`` epochs throughout.

    restore_lowest : bool, default=False
        Restore the epoch of the lowest score, even when it beat the improvement
        before it by less than ``threshold``: the threshold then decides only
        when the patience starts again, so that the small dips of a validation
        loss that wanders around its best do not prolong training, yet the best
        of those dips is kept. False restores the last improvement, as skorch.

    **kwargs
        Passed to :class:`skorch.callbacks.EarlyStopping`; ``load_best`` is True.
    """

    def __init__(
        self,
        initial_score,
        initial_margin=0.0,
        patience_before_gain=None,
        initial_losses=None,
        sample_losses=None,
        gain_standard_errors=2.0,
        patience_growth=None,
        restore_lowest=False,
        **kwargs,
    ):
        super().__init__(load_best=True, **kwargs)
        self.initial_score = initial_score
        self.initial_margin = initial_margin
        self.patience_before_gain = patience_before_gain
        self.initial_losses = initial_losses
        self.sample_losses = sample_losses
        self.gain_standard_errors = gain_standard_errors
        self.patience_growth = patience_growth
        self.restore_lowest = restore_lowest

    def __getstate__(self):
        state = super().__getstate__()
        state["initial_model_weights_"] = None
        state["sample_losses"] = None
        return state

    def _gain_score(self):
        """The score an epoch must reach to replace the initial parameters."""
        return self.initial_score * (1 - self.initial_margin)

    def _is_gain(self, score, net):
        """Whether the epoch just ended, of validation score ``score``, is a
        gain on the initial parameters (see the class description)."""
        if score > self._gain_score():
            return False
        if self.initial_losses is None or self.sample_losses is None:
            return True
        module = net.module_
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad():
                losses = np.asarray(self.sample_losses(module), dtype=np.float64)
        finally:
            module.train(was_training)
        differences = np.asarray(self.initial_losses, dtype=np.float64) - losses
        self.last_gain_test_ = paired_gain(differences)
        mean, standard_error = self.last_gain_test_
        return bool(mean > self.gain_standard_errors * standard_error)

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.dynamic_threshold_ = self._calc_new_threshold(self.initial_score)
        self.initial_model_weights_ = _parameters_copy(net.module_)
        self.best_model_weights_ = self.initial_model_weights_
        self.best_epoch_ = 0
        self.best_score_ = self.initial_score
        self.improved_epoch_ = 0
        self.best_is_gain_ = False
        self.gained_ = False

    def on_epoch_end(self, net, **kwargs):
        score = net.history[-1, self.monitor]
        epoch = net.history[-1, "epoch"]
        # Tested at most once per epoch, only where the answer matters.
        is_gain = None
        improved = self._is_score_improved(score)
        if improved:
            self.misses_ = 0
            self.dynamic_threshold_ = self._calc_new_threshold(score)
            self.improved_epoch_ = epoch
        else:
            self.misses_ += 1
        lowest = self.restore_lowest and self._is_lower(score, self.best_score_)
        if improved or lowest:
            is_gain = self._is_gain(score, net)
            # A dip too small to count replaces a kept gain only with a gain:
            # on_train_end would otherwise restore the initial parameters.
            if improved or is_gain or not self.best_is_gain_:
                self.best_epoch_ = epoch
                self.best_score_ = score
                self.best_model_weights_ = _parameters_copy(net.module_)
                self.best_is_gain_ = is_gain
        if not self.gained_:
            if is_gain is None:
                is_gain = self._is_gain(score, net)
            if is_gain:
                # Patience after the gain counts from the gain, not from the
                # epochs spent waiting for it.
                self.gained_ = True
                self.misses_ = 0
        if self.patience_before_gain is None or self.gained_:
            patience = self.patience
            if self.gained_ and self.patience_growth is not None:
                grown = math.ceil(self.patience_growth * self.improved_epoch_)
                patience = max(patience, grown)
            stop = self.misses_ >= patience
            reason = f"has not improved in the last {patience} epochs"
        else:
            stop = len(net.history) >= self.patience_before_gain
            reason = (
                f"has not gained on that of the initial parameters in "
                f"{self.patience_before_gain} epoch(s)"
            )
        if stop:
            self._sink(f"Stopping since {self.monitor} {reason}.", net.verbose)
            raise StopTraining

    def _is_lower(self, score, other):
        """Whether ``score`` is better than ``other`` by any amount."""
        return score < other if self.lower_is_better else score > other

    def on_train_end(self, net, **kwargs):
        if self.best_epoch_ != 0 and not self.best_is_gain_:
            self.best_epoch_ = 0
            self.best_model_weights_ = self.initial_model_weights_
        # The per-sample losses read the validation data, and the initial ones
        # are as many floats as validation samples: neither is kept after fit.
        self.sample_losses = None
        self.initial_losses = None
        super().on_train_end(net, **kwargs)


def _parameters_copy(module):
    """A copy of ``module``'s state dict to restore it from: its tensors cloned
    (a deep copy of the dict also copied Python objects around them, several
    times the cost for the few small tensors of these models)."""
    return {name: value.detach().clone() for name, value in module.state_dict().items()}


def paired_gain(differences):
    """The mean of paired per-sample loss differences (initial minus epoch) and
    its standard error (0 for a single sample)."""
    differences = np.asarray(differences, dtype=np.float64)
    n = differences.size
    mean = float(differences.mean())
    if n < 2:
        return mean, 0.0
    return mean, float(differences.std(ddof=1) / math.sqrt(n))

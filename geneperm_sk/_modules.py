"""The torch modules of the block classifiers: the maths, no scikit-learn."""

from numbers import Integral

import torch
from torch import nn

__all__ = ["AbsMeanModule", "DeepSetsModule", "GatedAttentionModule"]

# Elementwise kernels handle the last few values of a tensor (fewer than two
# vector widths) with scalar code, whose exp can differ from the vector code in
# the last bit. Padding to a multiple of this many values sends every value
# through the vector code, so a row's result does not depend on where it sits.
_VECTOR_PADDING = 64


# -- pooling over bags of rows -------------------------------------------------------
#
# A batch of bags is its rows laid end to end, ``X`` of shape (n_rows, n_columns),
# and ``offsets`` of shape (n_bags + 1,): bag i is ``X[offsets[i]:offsets[i + 1]]``.
# Pooling reduces each bag's segment of rows; nothing is padded to the largest bag.
# On the CPU every segment is reduced on its own, in row order, so a bag's result
# does not depend on the other bags reduced with it.


def segment_pool(values, offsets, reduce):
    """``reduce`` ("sum", "mean" or "max") of ``values`` over each bag's rows:
    shape ``(n_bags, *values.shape[1:])``."""
    return torch.segment_reduce(values, reduce, offsets=offsets, axis=0)


def _per_row(pooled, offsets, n_rows):
    """Each bag's value repeated for each of its rows."""
    sizes = offsets[1:] - offsets[:-1]
    return pooled.repeat_interleave(sizes, dim=0, output_size=n_rows)


def _exp(values):
    """``exp`` of a 1-D tensor through the vector code only (see _VECTOR_PADDING)."""
    n_values = len(values)
    padded = -(-n_values // _VECTOR_PADDING) * _VECTOR_PADDING
    if padded == n_values:
        return torch.exp(values)
    return torch.exp(nn.functional.pad(values, (0, padded - n_values)))[:n_values]


def segment_softmax(logits, offsets):
    """The softmax of 1-D ``logits`` within each bag: shape ``(n_rows,)``, each
    bag's values sum to 1."""
    n_rows = len(logits)
    largest = segment_pool(logits.detach(), offsets, "max")
    exponentials = _exp(logits - _per_row(largest, offsets, n_rows))
    totals = segment_pool(exponentials, offsets, "sum")
    return exponentials / _per_row(totals, offsets, n_rows)


class _SetModule(nn.Module):
    """A set function of rows: what the modules of this library share.

    A subclass computes ``_pooled(X, offsets)``, the pooled representation of
    blocks or bags, and holds ``_output``, the layer from it to one logit.
    """

    def forward(self, X, offsets=None):
        """The logit of each block or bag, of shape ``(n_blocks,)``.

        Parameters
        ----------
        X : torch.Tensor of shape (n_blocks, block_size, n_columns) or \
                (n_rows, n_columns)
            The blocks, or with ``offsets`` the rows of bags laid end to end.

        offsets : torch.Tensor of shape (n_bags + 1,), default=None
            Where each bag starts in ``X``, then ``len(X)``.
        """
        return self.head_logits(self._pooled(X, offsets))

    def _input_layers(self):
        """The linear layers that read the features of the rows themselves."""
        raise NotImplementedError

    def head_logits(self, pooled):
        """The logits of pooled bags, shape ``(n_bags,)``.

        Parameters
        ----------
        pooled : torch.Tensor of shape (n_bags, n_features)
            What ``pool_features`` returned.
        """
        return self._output(pooled).squeeze(-1)


class AbsMeanModule(_SetModule):
    """Row-wise linear score, absolute value, mean over rows, affine output.

    For a block ``x`` of shape ``(block_size, n_columns)`` the module computes
    ``z_r = w . x_r + b1`` for each row, pools ``q = mean_r |z_r|`` and returns the
    logit ``s = a * q + c``. The sigmoid that turns ``s`` into a probability belongs
    to the loss (``BCEWithLogitsLoss``) and to ``predict_proba``.

    Read more in the :ref:`User Guide <absmean>`.

    Parameters
    ----------
    n_columns : int
        The number of columns of each row.

    Attributes
    ----------
    row_linear : torch.nn.Linear
        ``Linear(n_columns, 1)``: the row weights ``w`` and bias ``b1``.

    output_linear : torch.nn.Linear
        ``Linear(1, 1)``: the output weight ``a`` and bias ``c``.

    Examples
    --------
    >>> import torch
    >>> from geneperm_sk import AbsMeanModule
    >>> module = AbsMeanModule(n_columns=4)
    >>> module(torch.ones(3, 2, 4)).shape
    torch.Size([3])

    Bags of any size are their rows laid end to end, with offsets:

    >>> rows = torch.ones(6, 4)
    >>> module(rows, offsets=torch.tensor([0, 1, 6])).shape
    torch.Size([2])
    """

    def __init__(self, n_columns):
        super().__init__()
        self.row_linear = nn.Linear(n_columns, 1)
        self.output_linear = nn.Linear(1, 1)

    @property
    def _output(self):
        return self.output_linear

    def _input_layers(self):
        return [self.row_linear]

    def pooled_row_scores(self, X, offsets=None):
        """The mean over rows of ``|w @ x_r + b1|``, of shape ``(n_blocks, 1)``.

        Parameters
        ----------
        X : torch.Tensor of shape (n_blocks, block_size, n_columns) or \
                (n_rows, n_columns)
            The blocks, or with ``offsets`` the rows of bags laid end to end.

        offsets : torch.Tensor of shape (n_bags + 1,), default=None
            Where each bag starts in ``X``, then ``len(X)``.
        """
        if offsets is None:
            return self.row_linear(X).abs().mean(dim=1)
        return self.pool_features(self.row_features(X), offsets)

    _pooled = pooled_row_scores

    def row_scores(self, X, offsets=None):
        """``|w @ x_r + b1|`` for every row: shape ``(n_blocks, block_size)`` for
        blocks, ``(n_rows,)`` for rows of bags.

        Parameters
        ----------
        X : torch.Tensor of shape (n_blocks, block_size, n_columns) or \
                (n_rows, n_columns)
            The blocks, or the rows of bags laid end to end.

        offsets : torch.Tensor of shape (n_bags + 1,), default=None
            Where each bag starts in ``X``; not needed, since a row's score does
            not depend on its bag.
        """
        return self.row_linear(X).abs().squeeze(-1)

    # The stages of the forward pass, for prediction that streams over rows.

    def row_features(self, X):
        """What each row contributes, shape ``(n_rows, 1)``: ``|w @ x_r + b1|``.

        Parameters
        ----------
        X : torch.Tensor of shape (n_rows, n_columns)
            The rows of bags laid end to end (or of blocks, flattened).
        """
        return self.row_linear(X).abs()

    def pool_features(self, features, offsets):
        """Each bag's pooled row features, shape ``(n_bags, 1)``.

        Parameters
        ----------
        features : torch.Tensor of shape (n_rows, n_features)
            What ``row_features`` returned for the rows of bags laid end to end.

        offsets : torch.Tensor of shape (n_bags + 1,)
            Where each bag starts in the rows, then the number of rows.
        """
        return segment_pool(features, offsets, "mean")

    def row_scores_from_features(self, features, offsets):
        """The row scores of bags from their row features, shape ``(n_rows,)``.

        Parameters
        ----------
        features : torch.Tensor of shape (n_rows, n_features)
            What ``row_features`` returned for the rows of bags laid end to end.

        offsets : torch.Tensor of shape (n_bags + 1,)
            Where each bag starts in the rows, then the number of rows.
        """
        return features[:, 0]


def set_parameters(module, row_weights, row_bias, output_weight, output_bias):
    """Overwrite the module's four parameters in place (keeping optimiser links)."""
    with torch.no_grad():
        module.row_linear.weight.copy_(torch.as_tensor(row_weights).reshape(1, -1))
        module.row_linear.bias.fill_(float(row_bias))
        module.output_linear.weight.fill_(float(output_weight))
        module.output_linear.bias.fill_(float(output_bias))


def _perceptron(n_inputs, hidden_sizes):
    """Linear layers of ``hidden_sizes`` units, each followed by a ReLU."""
    layers = []
    for n_units in hidden_sizes:
        layers += [nn.Linear(n_inputs, n_units), nn.ReLU()]
        n_inputs = n_units
    return nn.Sequential(*layers), n_inputs


def _check_sizes(name, sizes):
    """``sizes`` as a tuple of ints, or a ValueError naming ``name``."""
    if isinstance(sizes, Integral):  # True or 8 is no sequence of widths
        raise ValueError(f"{name} must be a sequence of positive ints; got {sizes!r}.")
    sizes = tuple(sizes)
    if not all(
        isinstance(size, Integral) and not isinstance(size, bool) and size >= 1
        for size in sizes
    ):
        raise ValueError(f"{name} must hold positive ints; got {sizes!r}.")
    return tuple(int(size) for size in sizes)


_POOLINGS = ("mean", "max", "sum")


class DeepSetsModule(_SetModule):
    """A perceptron on each row, a pooling over rows, a perceptron on the pool.

    For a block ``x`` of shape ``(block_size, n_columns)`` the module computes the
    row embeddings ``h_r = phi(x_r)``, pools them over the rows, ``p = mean_r h_r``
    (or the elementwise maximum, or the sum), and returns the logit
    ``s = rho(p)``. ``phi`` is a stack of linear layers each followed by a ReLU;
    ``rho`` is the same followed by a linear layer to one output. Whatever the
    parameters, ``s`` does not change when the rows of a block are permuted
    (Zaheer et al., 2017, "Deep Sets").

    Read more in the :ref:`User Guide <ladder_rungs>`.

    Parameters
    ----------
    n_columns : int
        The number of columns of each row.

    row_hidden_sizes : tuple of int, default=(64, 64)
        The widths of the layers of ``phi``; the last is the width of the row
        embeddings. Empty pools the rows themselves.

    pooling : {"mean", "max", "sum"}, default="mean"
        How the row embeddings are pooled over the rows of a block.

    head_hidden_sizes : tuple of int, default=(64,)
        The widths of the hidden layers of ``rho``. Empty makes ``rho`` linear.

    Attributes
    ----------
    row_network : torch.nn.Sequential
        ``phi``, applied to every row.

    head : torch.nn.Sequential
        ``rho``, from the pooled embedding to the logit.

    Examples
    --------
    >>> import torch
    >>> from geneperm_sk import DeepSetsModule
    >>> module = DeepSetsModule(n_columns=4, row_hidden_sizes=(8,), pooling="max")
    >>> blocks = torch.randn(3, 5, 4)
    >>> module(blocks).shape
    torch.Size([3])
    >>> reversed_rows = blocks.flip(1)
    >>> torch.equal(module(reversed_rows), module(blocks))
    True

    Bags of any size are their rows laid end to end, with offsets:

    >>> module(torch.randn(7, 4), offsets=torch.tensor([0, 2, 7])).shape
    torch.Size([2])
    """

    def __init__(
        self,
        n_columns,
        row_hidden_sizes=(64, 64),
        pooling="mean",
        head_hidden_sizes=(64,),
    ):
        super().__init__()
        if pooling not in _POOLINGS:
            raise ValueError(f"pooling must be one of {_POOLINGS}; got {pooling!r}.")
        self.pooling = pooling
        self.row_network, width = _perceptron(
            n_columns, _check_sizes("row_hidden_sizes", row_hidden_sizes)
        )
        head, width = _perceptron(
            width, _check_sizes("head_hidden_sizes", head_hidden_sizes)
        )
        self.head = nn.Sequential(*head, nn.Linear(width, 1))

    def pooled_embeddings(self, X, offsets=None):
        """The pooled row embeddings, of shape ``(n_blocks, width)``.

        Parameters
        ----------
        X : torch.Tensor of shape (n_blocks, block_size, n_columns) or \
                (n_rows, n_columns)
            The blocks, or with ``offsets`` the rows of bags laid end to end.

        offsets : torch.Tensor of shape (n_bags + 1,), default=None
            Where each bag starts in ``X``, then ``len(X)``.
        """
        embeddings = self.row_network(X)
        if offsets is not None:
            return self.pool_features(embeddings, offsets)
        if self.pooling == "mean":
            return embeddings.mean(dim=1)
        if self.pooling == "max":
            return embeddings.amax(dim=1)
        return embeddings.sum(dim=1)

    # The stages of the forward pass, for prediction that streams over rows.

    _pooled = pooled_embeddings

    @property
    def _output(self):
        return self.head

    def _input_layers(self):
        # Without row layers, the pool of the rows (linear in them for mean
        # and sum, and for max under positive scaling) feeds the head.
        if len(self.row_network):
            return [self.row_network[0]]
        return [self.head[0]]

    def row_features(self, X):
        """What each row contributes, shape ``(n_rows, width)``: its embedding.

        Parameters
        ----------
        X : torch.Tensor of shape (n_rows, n_columns)
            The rows of bags laid end to end (or of blocks, flattened).
        """
        return self.row_network(X)

    def pool_features(self, features, offsets):
        """Each bag's pooled row features, shape ``(n_bags, width)``.

        Parameters
        ----------
        features : torch.Tensor of shape (n_rows, n_features)
            What ``row_features`` returned for the rows of bags laid end to end.

        offsets : torch.Tensor of shape (n_bags + 1,)
            Where each bag starts in the rows, then the number of rows.
        """
        return segment_pool(features, offsets, self.pooling)


class GatedAttentionModule(_SetModule):
    """Gated attention pooling of row embeddings (attention-based deep MIL).

    For a block ``x`` of shape ``(block_size, n_columns)`` the module embeds each
    row, ``h_r = phi(x_r)``, scores it with the gated attention of Ilse, Tomczak
    and Welling (2018),

    ``e_r = w . (tanh(V h_r + b_V) * sigmoid(U h_r + b_U)) + b_w``,

    weights the rows by ``a_r = softmax_r(e_r)``, pools ``z = sum_r a_r h_r`` and
    returns the logit ``s = rho(z)``. ``phi`` is a stack of linear layers each
    followed by a ReLU; ``rho`` is the same followed by a linear layer to one
    output. The logit does not change when the rows of a block are permuted, and
    the weights ``a_r`` show which rows the model looks at.

    Read more in the :ref:`User Guide <ladder_rungs>`.

    Parameters
    ----------
    n_columns : int
        The number of columns of each row.

    row_hidden_sizes : tuple of int, default=(64,)
        The widths of the layers of ``phi``; the last is the width of the row
        embeddings. Empty attends to the rows themselves.

    attention_size : int, default=64
        The number of rows of ``V`` and ``U``: the width of the attention's
        hidden layer (``D`` in the paper).

    head_hidden_sizes : tuple of int, default=()
        The widths of the hidden layers of ``rho``. Empty makes ``rho`` linear,
        as in the paper.

    Attributes
    ----------
    row_network : torch.nn.Sequential
        ``phi``, applied to every row.

    attention_tanh : torch.nn.Linear
        ``V`` and ``b_V``.

    attention_gate : torch.nn.Linear
        ``U`` and ``b_U``.

    attention_score : torch.nn.Linear
        ``w`` and ``b_w``.

    head : torch.nn.Sequential
        ``rho``, from the pooled embedding to the logit.

    References
    ----------
    M. Ilse, J. M. Tomczak and M. Welling, "Attention-based Deep Multiple
    Instance Learning", ICML 2018.

    Examples
    --------
    >>> import torch
    >>> from geneperm_sk import GatedAttentionModule
    >>> module = GatedAttentionModule(n_columns=4, attention_size=8)
    >>> blocks = torch.randn(3, 5, 4)
    >>> module(blocks).shape
    torch.Size([3])
    >>> weights = module.attention_weights(blocks)
    >>> weights.shape
    torch.Size([3, 5])
    >>> torch.allclose(weights.sum(dim=1), torch.ones(3))
    True

    Bags of any size are their rows laid end to end, with offsets:

    >>> rows, offsets = torch.randn(7, 4), torch.tensor([0, 2, 7])
    >>> module(rows, offsets=offsets).shape
    torch.Size([2])
    >>> module.attention_weights(rows, offsets=offsets).shape
    torch.Size([7])
    """

    def __init__(
        self, n_columns, row_hidden_sizes=(64,), attention_size=64, head_hidden_sizes=()
    ):
        super().__init__()
        self.row_network, width = _perceptron(
            n_columns, _check_sizes("row_hidden_sizes", row_hidden_sizes)
        )
        (attention_size,) = _check_sizes("attention_size", (attention_size,))
        self.attention_tanh = nn.Linear(width, attention_size)
        self.attention_gate = nn.Linear(width, attention_size)
        self.attention_score = nn.Linear(attention_size, 1)
        head, width = _perceptron(
            width, _check_sizes("head_hidden_sizes", head_hidden_sizes)
        )
        self.head = nn.Sequential(*head, nn.Linear(width, 1))

    def _embeddings_and_logits(self, X):
        """The row embeddings ``h_r`` and attention logits ``e_r``."""
        embeddings = self.row_network(X)
        gated = torch.tanh(self.attention_tanh(embeddings)) * torch.sigmoid(
            self.attention_gate(embeddings)
        )
        return embeddings, self.attention_score(gated).squeeze(-1)

    def _embeddings_and_weights(self, X):
        embeddings, logits = self._embeddings_and_logits(X)
        return embeddings, torch.softmax(logits, dim=1)

    def attention_weights(self, X, offsets=None):
        """The attention ``a_r`` on each row, of shape ``(n_blocks, block_size)``
        (``(n_rows,)`` for bags); every block's weights sum to 1.

        Parameters
        ----------
        X : torch.Tensor of shape (n_blocks, block_size, n_columns) or \
                (n_rows, n_columns)
            The blocks, or with ``offsets`` the rows of bags laid end to end.

        offsets : torch.Tensor of shape (n_bags + 1,), default=None
            Where each bag starts in ``X``, then ``len(X)``.
        """
        if offsets is not None:
            return segment_softmax(self._embeddings_and_logits(X)[1], offsets)
        return self._embeddings_and_weights(X)[1]

    row_scores = attention_weights

    def pooled_embeddings(self, X, offsets=None):
        """``z = sum_r a_r h_r``, of shape ``(n_blocks, width)``.

        Parameters
        ----------
        X : torch.Tensor of shape (n_blocks, block_size, n_columns) or \
                (n_rows, n_columns)
            The blocks, or with ``offsets`` the rows of bags laid end to end.

        offsets : torch.Tensor of shape (n_bags + 1,), default=None
            Where each bag starts in ``X``, then ``len(X)``.
        """
        if offsets is not None:
            return self._pool(*self._embeddings_and_logits(X), offsets)
        embeddings, weights = self._embeddings_and_weights(X)
        return (weights.unsqueeze(-1) * embeddings).sum(dim=1)

    _pooled = pooled_embeddings

    @property
    def _output(self):
        return self.head

    def _input_layers(self):
        # Without row layers, the attention reads the rows and the head their
        # weighted sum.
        if len(self.row_network):
            return [self.row_network[0]]
        return [self.attention_tanh, self.attention_gate, self.head[0]]

    def _pool(self, embeddings, logits, offsets):
        weights = segment_softmax(logits, offsets)
        return segment_pool(weights.unsqueeze(-1) * embeddings, offsets, "sum")

    # The stages of the forward pass, for prediction that streams over rows.

    def row_features(self, X):
        """What each row contributes, shape ``(n_rows, width + 1)``: its
        embedding, then its attention logit.

        Parameters
        ----------
        X : torch.Tensor of shape (n_rows, n_columns)
            The rows of bags laid end to end (or of blocks, flattened).
        """
        embeddings, logits = self._embeddings_and_logits(X)
        return torch.cat([embeddings, logits.unsqueeze(-1)], dim=1)

    def pool_features(self, features, offsets):
        """Each bag's attention-pooled embedding, shape ``(n_bags, width)``.

        Parameters
        ----------
        features : torch.Tensor of shape (n_rows, n_features)
            What ``row_features`` returned for the rows of bags laid end to end.

        offsets : torch.Tensor of shape (n_bags + 1,)
            Where each bag starts in the rows, then the number of rows.
        """
        return self._pool(features[:, :-1], features[:, -1], offsets)

    def row_scores_from_features(self, features, offsets):
        """The attention weights of bags from their row features, ``(n_rows,)``.

        Parameters
        ----------
        features : torch.Tensor of shape (n_rows, n_features)
            What ``row_features`` returned for the rows of bags laid end to end.

        offsets : torch.Tensor of shape (n_bags + 1,)
            Where each bag starts in the rows, then the number of rows.
        """
        return segment_softmax(features[:, -1], offsets)

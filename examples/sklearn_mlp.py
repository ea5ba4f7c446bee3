"""scikit-learn: ``MLPRegressor`` and ``MLPClassifier``, gradients by their own ``_backprop``.

scikit-learn keeps W^(l) as ``coefs_[l-1]`` of shape (S_{l-1}, S_l) (``weights="in_out"``) and
samples as rows (``layout="rows"``). ``_backprop`` is the private method that ``fit`` runs
(checked with scikit-learn 1.9.1); it returns J and the gradients:

    crosscheck check examples/sklearn_mlp.py:regressor --activations tanh,tanh,identity \\
        --sizes 3,4,3,1 --layout rows --weights in_out
    crosscheck check examples/sklearn_mlp.py:classifier --activations relu,softmax \\
        --loss cross_entropy --layout rows --weights in_out
    crosscheck check examples/sklearn_mlp.py:regressor_alpha --activations tanh,tanh,identity \\
        --sizes 3,4,3,1 --weight-decay 0.001 --layout rows --weights in_out

``regressor`` with S_L > 1 outputs: J is ours / S_L while the gradient is ours (scikit-learn
issue 8349). ``regressor_alpha`` has ``alpha=0.001``: scikit-learn's penalty is
(α / 2N) Σ ‖W‖², so α is λ·N, not λ.
"""

from sklearn.neural_network import MLPClassifier, MLPRegressor


def mlp_backprop(estimator, out_activation, Ws, bs, X, T):
    """``estimator._backprop`` with ``coefs_`` = Ws, ``intercepts_`` = bs: (J, dWs, dbs)."""
    L = len(Ws)
    estimator.coefs_, estimator.intercepts_ = list(Ws), list(bs)
    estimator.n_layers_, estimator.out_activation_ = L + 1, out_activation  # as fit sets them
    A = [X] + [None] * L  # _backprop fills A^(1..L), the deltas and the gradients in these lists
    return estimator._backprop(X, T, None, A, [None] * L, [None] * L, [None] * L)


def regressor(Ws, bs, X, T):
    return mlp_backprop(MLPRegressor(activation="tanh", alpha=0.0), "identity", Ws, bs, X, T)


def regressor_alpha(Ws, bs, X, T):
    return mlp_backprop(MLPRegressor(activation="tanh", alpha=0.001), "identity", Ws, bs, X, T)


def classifier(Ws, bs, X, T):
    return mlp_backprop(MLPClassifier(activation="relu", alpha=0.0), "softmax", Ws, bs, X, T)

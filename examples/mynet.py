"""A hand-written backprop with a classic bug, the sample of docs/checking-your-backprop.md.

tanh hidden layers, identity output, J = Σ_n ‖a_n − t_n‖² / (2N) (eq 2.16). The 1/N of eq 2.21
is applied to ∂J/∂W^(l) but forgotten in ∂J/∂b^(l), so every bias gradient is N times too
large. Check it with::

    crosscheck check examples/mynet.py:backprop --activations tanh,identity --seed 0
"""

import numpy as np


def backprop(Ws, bs, X, T):
    """(J, dWs, dbs) for W^(l) (S_l, S_{l-1}), b^(l) (S_l,), X (S_0, N), T (S_L, N)."""
    N = X.shape[1]
    A = [X]
    for W, b in zip(Ws[:-1], bs[:-1], strict=True):
        A.append(np.tanh(W @ A[-1] + b[:, None]))
    output = Ws[-1] @ A[-1] + bs[-1][:, None]
    J = np.sum((output - T) ** 2) / (2 * N)
    H = output - T  # eq 2.21 without its 1/N ...
    dWs, dbs = [], []
    for l in range(len(Ws), 0, -1):
        dWs.insert(0, H @ A[l - 1].T / N)  # ... applied here (eqs 2.14, 2.33)
        dbs.insert(0, H.sum(axis=1))  # ... and forgotten here (eqs 2.15, 2.37): the bug
        if l > 1:
            H = (Ws[l - 1].T @ H) * (1 - A[l - 1] ** 2)  # eqs 2.32, 2.34
    return J, dWs, dbs

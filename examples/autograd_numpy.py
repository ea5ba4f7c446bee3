"""HIPS autograd (PyPI ``autograd``): a NumPy forward pass, differentiated by ``value_and_grad``.

autograd has no network library: the network is eq 1.4 written with ``autograd.numpy``, in
the seed's own layout (``layout="columns"``, ``weights="out_in"``, the defaults):

    crosscheck check examples/autograd_numpy.py:backprop --activations tanh,relu,identity
    crosscheck check examples/autograd_numpy.py:backprop_maximum --activations tanh,relu,identity

``backprop`` writes ReLU as ``where(Z > 0, Z, 0)``; ``backprop_maximum`` as ``maximum(Z, 0)``,
whose derivative autograd takes as ½ where Z == 0 (a tie of ``maximum``'s two arguments).
"""

import autograd.numpy as anp
from autograd import value_and_grad


def relu(Z):
    return anp.where(Z > 0, Z, 0.0)  # derivative 0 at Z == 0, as the suite's


def relu_maximum(Z):
    return anp.maximum(Z, 0.0)  # autograd: derivative ½ at Z == 0


def loss(params, X, T, sigmas):
    """J of eq 2.16; params = [(W^(1), b^(1)), ...], X (S_0, N), T (S_L, N)."""
    A = X
    for (W, b), sigma in zip(params, sigmas, strict=True):
        A = sigma(W @ A + b[:, None])  # eq 1.4
    return anp.sum((A - T) ** 2) / (2 * X.shape[1])


def backprop_with(*sigmas):
    def backprop(Ws, bs, X, T):
        J, grads = value_and_grad(loss)(list(zip(Ws, bs, strict=True)), X, T, sigmas)
        return J, [dW for dW, _ in grads], [db for _, db in grads]

    return backprop


backprop = backprop_with(anp.tanh, relu, lambda Z: Z)
backprop_maximum = backprop_with(anp.tanh, relu_maximum, lambda Z: Z)

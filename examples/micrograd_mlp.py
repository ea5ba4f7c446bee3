"""micrograd (PyPI ``micrograd`` 0.1.0): Karpathy's scalar autograd engine and its ``MLP``.

``micrograd.nn.MLP(S_0, [S_1, ..., S_L])`` has ReLU hidden layers and a linear output layer;
each neuron holds its weights as a list over its inputs, so ``neuron.w[j]`` is W^(l)_ij
(``weights="out_in"``) and it takes one sample at a time (``layout="rows"``):

    crosscheck check examples/micrograd_mlp.py:backprop --activations relu,relu,identity \\
        --layout rows

micrograd computes in Python floats (float64) only.
"""

import numpy as np
from micrograd.engine import Value
from micrograd.nn import MLP


def backprop(Ws, bs, X, T):
    """J (eq 2.16) and its gradients by micrograd's ``backward``; X (N, S_0), T (N, S_L)."""
    model = MLP(len(Ws[0][0]), [len(b) for b in bs])
    for layer, W, b in zip(model.layers, Ws, bs, strict=True):
        for neuron, W_i, b_i in zip(layer.neurons, W, b, strict=True):
            for w, W_ij in zip(neuron.w, W_i, strict=True):
                w.data = float(W_ij)
            neuron.b.data = float(b_i)
    J = Value(0.0)
    for x, t in zip(X, T, strict=True):
        a = [float(x_j) for x_j in x]
        for layer in model.layers:  # not model(x): a layer of width 1 returns a bare Value
            a = [neuron(a) for neuron in layer.neurons]
        J = J + sum((a_k - t_k) ** 2 for a_k, t_k in zip(a, t, strict=True))
    J = J * (1 / (2 * len(X)))
    J.backward()
    dWs = [np.array([[w.grad for w in n.w] for n in layer.neurons]) for layer in model.layers]
    dbs = [np.array([n.b.grad for n in layer.neurons]) for layer in model.layers]
    return J.data, dWs, dbs

"""PyTorch (``torch``): ``nn.Sequential`` of ``nn.Linear`` layers, gradients by ``backward()``.

``nn.Linear(S_{l-1}, S_l).weight`` is (S_l, S_{l-1}), the seed's W^(l) (``weights="out_in"``);
PyTorch takes samples as rows (``layout="rows"``):

    crosscheck check examples/pytorch_sequential.py:backprop --activations tanh,tanh,identity \\
        --layout rows
    crosscheck check examples/pytorch_sequential.py:backprop_float32 --activations \\
        tanh,tanh,identity --layout rows --dtype float32
    crosscheck check examples/pytorch_sequential.py:backprop_softplus --activations \\
        softplus,identity --layout rows

J is eq 2.16, Σ (A − T)² / (2N): not ``nn.MSELoss``, a mean over all N·S_L entries without ½.
"""

import torch
from torch import nn


def sequential_backprop(hidden, dtype):
    """fn(Ws, bs, X, T) for nn.Sequential(Linear, hidden(), ..., Linear): identity output."""

    def backprop(Ws, bs, X, T):
        layers = []
        for W, b in zip(Ws, bs, strict=True):
            linear = nn.Linear(W.shape[1], W.shape[0], dtype=dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.tensor(W))
                linear.bias.copy_(torch.tensor(b))
            layers += [linear, hidden()]
        model = nn.Sequential(*layers[:-1])  # no activation after the last Linear
        A = model(torch.tensor(X, dtype=dtype))  # (N, S_L)
        J = ((A - torch.tensor(T, dtype=dtype)) ** 2).sum() / (2 * len(X))
        J.backward()
        linears = layers[::2]
        dWs = [linear.weight.grad.numpy() for linear in linears]
        return J.item(), dWs, [linear.bias.grad.numpy() for linear in linears]

    return backprop


backprop = sequential_backprop(nn.Tanh, torch.float64)
backprop_float32 = sequential_backprop(nn.Tanh, torch.float32)
backprop_softplus = sequential_backprop(nn.Softplus, torch.float64)  # threshold=20: z itself above

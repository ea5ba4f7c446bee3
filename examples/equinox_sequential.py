"""equinox (PyPI ``equinox``, on JAX): ``eqx.nn.Sequential`` of ``eqx.nn.Linear`` layers.

``eqx.nn.Linear(S_{l-1}, S_l).weight`` is (S_l, S_{l-1}), the seed's W^(l)
(``weights="out_in"``); an equinox model takes one sample, so the batch is ``jax.vmap`` over
rows (``layout="rows"``):

    crosscheck check examples/equinox_sequential.py:backprop --activations tanh,sigmoid,identity \\
        --layout rows

JAX computes in float32 unless 64-bit mode is on: ``backprop`` turns it on for its own
computation only (``jax.enable_x64``), so the host program's JAX settings stay as they were.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


def linear(W, b):
    """eqx.nn.Linear with weight W (S_l, S_{l-1}) and bias b (S_l,)."""
    layer = eqx.nn.Linear(W.shape[1], W.shape[0], key=jax.random.key(0), dtype=W.dtype)
    return eqx.tree_at(lambda layer: (layer.weight, layer.bias), layer, (W, b))


@eqx.filter_jit
@eqx.filter_value_and_grad
def loss_and_grads(model, X, T):
    """J of eq 2.16 and its gradient with respect to the model; X (N, S_0), T (N, S_L)."""
    A = jax.vmap(model)(X)
    return jnp.sum((A - T) ** 2) / (2 * len(X))


def backprop(Ws, bs, X, T):
    """J and its gradients by ``jax.grad`` of the equinox model; X (N, S_0), T (N, S_L)."""
    with jax.enable_x64(True):
        first, second, last = (
            linear(jnp.asarray(W), jnp.asarray(b)) for W, b in zip(Ws, bs, strict=True)
        )
        tanh, sigmoid = eqx.nn.Lambda(jnp.tanh), eqx.nn.Lambda(jax.nn.sigmoid)
        model = eqx.nn.Sequential([first, tanh, second, sigmoid, last])
        J, grads = loss_and_grads(model, jnp.asarray(X), jnp.asarray(T))
        dlinears = grads.layers[::2]  # the Lambda layers have no parameters
        dWs = [np.asarray(dlinear.weight) for dlinear in dlinears]
        return float(J), dWs, [np.asarray(dlinear.bias) for dlinear in dlinears]

"""Functions under check that misbehave the way real code does, for σ = tanh, identity and
J = squared error (eq 2.16). The worker process imports this module (tests/ is on the import
path under pytest), and the CLI tests check it as a file: ``crosscheck check
tests/misbehaving.py:exits_0``. ``correct`` agrees with the suite; every other function is
named after what it does. Functions that count their calls count them in a module global:
in the worker's copy of this module, which starts at 0 with every new worker.
"""

import ctypes
import os
import sys
import time

import numpy as np

from crosscheck.oracle.catalogue import Backprop

ACTIVATIONS = ("tanh", "identity")

correct = Backprop(ACTIVATIONS, "squared_error", 0.0)
"""The suite's own backprop in the oracle's signature: (J, dWs, dbs)."""


class Float32Backprop(Backprop):
    """The same backprop computed in float32 whatever it is handed: correct float32 code."""

    dtype = np.float32


in_float32 = Float32Backprop(ACTIVATIONS, "squared_error", 0.0)
"""Correct float32 code: float32 results, for float64 inputs too."""


def exits_0(Ws, bs, X, T):
    print("about to exit")
    os._exit(0)


def exits_3(Ws, bs, X, T):
    os._exit(3)


def calls_sys_exit(Ws, bs, X, T):
    sys.exit(0)


def segfaults(Ws, bs, X, T):
    print("about to read address 0", flush=True)
    ctypes.string_at(0)


def aborts(Ws, bs, X, T):
    os.abort()


def hangs(Ws, bs, X, T):
    time.sleep(3600)


def spins(Ws, bs, X, T):
    while True:
        pass


def raises_keyboard_interrupt(Ws, bs, X, T):
    raise KeyboardInterrupt


def raises(Ws, bs, X, T):
    raise ValueError("boom")


def wrong_shapes(Ws, bs, X, T):
    J, dWs, dbs = correct(Ws, bs, X, T)
    return J, [dW.T for dW in dWs], dbs


def returns_nan(Ws, bs, X, T):
    J, dWs, dbs = correct(Ws, bs, X, T)
    return J, [np.full(dW.shape, np.nan) for dW in dWs], dbs


def mutates_inputs(Ws, bs, X, T):
    X[0, 0] = 1.0
    return correct(Ws, bs, X, T)


def returns_none(Ws, bs, X, T):
    return None


def returns_a_generator(Ws, bs, X, T):
    return (array for array in correct(Ws, bs, X, T))


def sleeps_then_correct(Ws, bs, X, T):
    time.sleep(0.01)
    return correct(Ws, bs, X, T)


def prints_a_lot(Ws, bs, X, T):
    print("x" * 1_000_000)
    sys.stderr.write("e" * 1_000_000 + "\n")
    return correct(Ws, bs, X, T)


def closes_its_streams(Ws, bs, X, T):
    sys.stdout.close()
    sys.stderr.close()
    os.close(1)
    os.close(2)
    return correct(Ws, bs, X, T)


def crashes_at_two_samples(Ws, bs, X, T):
    if X.shape[1] == 2:
        ctypes.string_at(0)
    return correct(Ws, bs, X, T)


_calls = []


def crashes_on_every_second_call(Ws, bs, X, T):
    _calls.append(1)
    if len(_calls) % 2 == 0:
        os.abort()
    return correct(Ws, bs, X, T)


def requires_float32(Ws, bs, X, T):
    """float32 code that refuses any other input dtype."""
    for a in (*Ws, *bs, X, T):
        if a.dtype != np.float32:
            raise TypeError(f"expects float32 arrays, got {a.dtype}")
    return in_float32(Ws, bs, X, T)


_counted = []


def wrong_on_third_call(Ws, bs, X, T):
    """Correct but on its third call (the second example's first), where ∂J/∂W^(l) is off
    by 1: order-dependent code."""
    _counted.append(1)
    J, dWs, dbs = correct(Ws, bs, X, T)
    return J, [dW + 1.0 if len(_counted) == 3 else dW for dW in dWs], dbs


_hung = []


def hangs_on_second_call(Ws, bs, X, T):
    """Correct but on its second call, which never returns."""
    _hung.append(1)
    if len(_hung) == 2:
        time.sleep(3600)
    return correct(Ws, bs, X, T)

"""Other people's backprop, wrapped in the oracle's signature (DESIGN §5 "Oracle for others").

Each adapter returns ``fn(Ws, bs, X, T) -> (J, dWs, dbs)`` in the suite's conventions
(``Ws[l-1]`` = W^(l) of shape (S_l, S_{l-1}), ``bs[l-1]`` = b^(l) of shape (S_l,),
X (S_0, N), T (S_L, N), J of eq 2.16 or its extensions), so that it can be handed to
``crosscheck.compare.comparison`` or ``crosscheck.oracle.search.check_gradients``:

- ``crosscheck.oracle.external.torch_adapter``: PyTorch autograd through ``nn.Sequential``
  (needs the ``torch`` extra).
- ``crosscheck.oracle.external.sklearn_adapter``: scikit-learn's ``MLPRegressor`` /
  ``MLPClassifier`` internal ``_backprop``.

Nothing is imported here, so importing this package never imports torch.
"""

"""The equation registry: every equation of the seed → the code implementing it → its tests.

``python -m crosscheck.equations.registry > docs/equations.md`` regenerates the table.
"""

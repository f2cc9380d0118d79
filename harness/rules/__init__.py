"""The mission's rules as pure functions: the recommendation (adopt at 100% success, speedup > 1.5x, MAE within 2%)
and the one judgement of drift. No torch, no numpy. Imports only :mod:`harness.base`.
"""

"""Judging results, pure where it can be: eager and compiled joined into a comparison, statistics, which baseline
applies, what each check finds, the verdict and exit code, baseline files, the k-of-n confirmation, replayed gate
rates, history and change points, the pick of a configuration. No torch. Imports :mod:`harness.bench` and below.
"""

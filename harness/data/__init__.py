"""Where the numbers come from: OHLC CSVs read and validated (numbers, dates), the bench window, per-symbol settings
(``hyperparams/chronos2/<SYMBOL>.json``), extreme-data cases and synthetic training series. Imports only
:mod:`harness.base`.
"""

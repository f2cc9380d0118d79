"""Measuring: planning a bench request into runs, the runner (first call, timed interleaved calls, scoring), compile
settings, the result row, isolation in a child process, planted faults, precompiled starts, compile configurations
and the physical floor. Imports :mod:`harness.model` and below.
"""

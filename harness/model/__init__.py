"""The model: profiles and the one load path, the one forecast call, training and evaluating the shipped default model,
its checkpoints. Imports :mod:`harness.data` and below.
"""

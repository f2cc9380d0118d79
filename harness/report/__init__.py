"""Showing results: terminal tables, the search table, the report page (Markdown, HTML) and its plots. No torch.
Imports :mod:`harness.gate` and below.
"""

"""The base every wing may use: errors and exit codes, defaults (options), text enums, progress lines, and the
pip -> uv settings the noxfile reads. Imports nothing from the package but its version.
"""

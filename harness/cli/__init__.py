"""The command line: its grammar (parser), flag types, the dispatch (``main``), and the commands that span wings
(``compare``, ``update-baselines``, ``confirm``, ``ab``). Only wires steps; the work is in the wings below, all of which it may
import.
"""

"""The timeliness rules of crime recording, as pure functions over frozen values.

Nothing here reads a clock, a broker or a database: the current time is always
a parameter (`now`), and every input is a plain value. This package imports
only the standard library (a unit test enforces it).
"""

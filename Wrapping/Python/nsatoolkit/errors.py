"""Exceptions raised by nsatoolkit; their messages are those of the C++ toolkit."""


class Error(RuntimeError):
    """Base of the toolkit's errors (also raised for failures inside ITK filters)."""


class ParameterError(Error, ValueError):
    """A parameter, preset key or argument is invalid; the message names it and what is allowed."""


class InputError(Error, ValueError):
    """An input (array, file, mask) is unusable: wrong dimension, NaN, empty mask, missing file..."""


class OutputError(Error, OSError):
    """An output could not be written (missing or unwritable folder)."""

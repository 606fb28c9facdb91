"""The one exception type that reaches users as a one-line message.

Anything raised as :class:`UserError` is a problem with the user's input or environment (a
missing file, an impossible option, no GPU).  Command-line entry points catch it and print
``error: <message>`` with no traceback; library callers can catch it like any exception.
"""


class UserError(Exception):
    """A problem the user can fix; its message says how, in one line."""


class ShapeError(UserError, ValueError):
    """An array of the wrong shape, or options that make a shape impossible."""

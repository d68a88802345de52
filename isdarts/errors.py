"""The one exception type that reaches users as a one-line message (see ``isdarts.cli``)."""


class IsdartsError(Exception):
    """A user-facing error: bad input, missing data, invalid config.

    The CLI prints ``isdarts: error: <message>`` and exits with status 2; no traceback.
    Messages name the file or field and say what was expected.
    """

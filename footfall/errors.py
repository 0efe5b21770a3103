"""The one kind of error the command line prints as a line of its own, without a traceback."""


class UserError(Exception):
    """A mistake of the caller's: an unknown name, a bad date, a refused setting."""

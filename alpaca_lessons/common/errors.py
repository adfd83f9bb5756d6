"""Errors every stage may raise, defined below all of them."""


class DataError(Exception):
    """A data set that cannot be found, does not verify, or holds a malformed record."""

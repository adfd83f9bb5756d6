"""Errors every stage may raise, defined below all of them."""


class DataError(Exception):
    """Bad input the user can fix: a data set that cannot be found, does not verify, or holds a malformed
    record; a file that cannot be read or written; an address a server cannot listen on. Its message
    names the file (and line) or the address, and the command line prints it as one line."""


class SettingError(DataError, ValueError):
    """A setting that cannot work (a flag's value, or two that conflict); still a ValueError to Python."""


class NotLocalError(DataError, FileNotFoundError):
    """A model or tokenizer asked for by a name that is no local folder, while downloading was not allowed."""

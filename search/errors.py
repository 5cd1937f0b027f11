"""Exceptions a person can hit. Each message says what happened and what to do next;
the CLI and the page show the message as it is."""


class FathomError(Exception):
    """Base of every error Fathom reports to a person without a traceback."""


class ModelLoadError(FathomError):
    """A model could not be found, downloaded or loaded."""


class ModelServerError(ModelLoadError):
    """A model server cannot be used now: it is down, refused the key, or answered wrongly
    (e.g. vectors of another dimension). Whatever was being indexed stops, and no file is
    marked failed because of it; the next run picks up where this one stopped."""


class IndexMismatchError(FathomError):
    """The index was built with another embedding model or dimension."""


class ExtractError(FathomError):
    """A file's text could not be read (corrupt, encrypted, binary, too large...)."""


class NotIndexedError(FathomError):
    """There is nothing to search yet."""


class OutOfMemoryError(FathomError):
    """Even one text does not fit the device's memory."""


class SkippedFile(ExtractError):
    """A file left out on purpose (too large, binary): recorded as skipped, not failed."""

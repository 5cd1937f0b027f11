"""The storage errors callers catch, whichever backend raised them."""
from __future__ import annotations


class StorageError(Exception):
    """Something about the database itself went wrong (driver, disk, corruption)."""


class FolderRemoved(Exception):
    """The folder was removed (by this process or another) while its files were written;
    nothing was written under it."""

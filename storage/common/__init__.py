"""What both stores do the same way, written once: each backend's mixins (storage/sqlite/,
storage/postgres/) take these and add only what their database does differently, through their
`Dialect` (storage/dialect.py) and a few methods of their own (`_no_vector`, `_retry`, ...)."""

"""Format readers behind `search.ingest.extract`: one small module per kind of file.

Each reader takes bytes or a path and returns plain text (plus a title or page offsets where
the format has them); every failure a person can cause becomes an ExtractError whose message
`status` shows as it is. `extract.py` picks the reader by extension.
"""

"""Everything in Fathom that understands text and models: ingest, models, queries."""

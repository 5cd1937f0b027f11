"""From files on disk to stored chunks: walk, extract, chunk, embed, store."""

"""Search over published posts: the stored search document, the query and its snippets."""

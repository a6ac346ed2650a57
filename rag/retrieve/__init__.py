"""Understanding a question and finding the passages that can answer it."""

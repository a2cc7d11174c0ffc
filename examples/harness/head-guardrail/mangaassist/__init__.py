"""MangaAssist: a manga shop's customer assistant on Amazon Bedrock (costgate harness-mode example)."""

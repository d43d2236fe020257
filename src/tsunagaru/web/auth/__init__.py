"""Who is asking: passwords, sessions, tokens, rate limits and the dependencies that make a Principal."""

"""5. Checking: guard the bytes, read, normalise, validate with GX, decide per file, feedback."""

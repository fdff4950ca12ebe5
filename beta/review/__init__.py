"""The review room: notes that carry the picture (frames, ranges, drawings, threads), their export, and compare."""

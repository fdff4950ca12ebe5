"""Plain media helpers shared by `assets` and the tools in `beta/tools`: timecode, probing with PyAV, ffmpeg.

Nothing here imports Django (a test walks the imports), so the tools stay plain modules that run anywhere.
"""

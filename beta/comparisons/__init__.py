"""Blind comparisons: a studio's partners pick the better of two outputs on the same input, shown without labels.

Writes in `services`, reads and the pure statistics (`win_rate`, `comparison_results`) in `selectors`.
"""

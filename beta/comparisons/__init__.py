"""Blind comparisons: a studio's partners pick the better of two outputs on the same input, shown without labels.

Writes in `services`, reads (`comparison_results`) in `selectors`; win rates from `beta.stats.wilson`.
"""

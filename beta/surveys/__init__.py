"""Surveys staff define and assign to cohorts; partners answer once each, editable until the due date.

Writes in `services`, reads and the pure statistics (`nps`, `survey_results`) in `selectors`.
"""

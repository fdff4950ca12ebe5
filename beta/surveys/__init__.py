"""Surveys staff define and assign to cohorts; partners answer once each, editable until the due date.

Writes in `services`, reads (`survey_results`) in `selectors`; NPS and rating summaries from `beta.stats`.
"""

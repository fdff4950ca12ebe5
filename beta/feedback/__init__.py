"""Feedback on a run: the partner's report (drafts, submission, revisions, timecoded notes, attachments) and the
staff side (triage inbox, tags, assignee, internal comments, replies). Writes in `services`, reads in `selectors`."""

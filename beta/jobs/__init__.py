"""The job pipeline: submit (checks, quotas), dispatch (fair share), execute (claim, run, store, finish), control
(cancel, retry) and sweep (lost messages, dead workers, orphaned outputs). Import from the module you need."""

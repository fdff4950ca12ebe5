"""Running the programme from the staff console: tools' availability per cohort, the queues, studios' quotas."""

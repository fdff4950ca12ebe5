from celery import shared_task

from beta.results import report


@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def build_results_report(report_id: int) -> None:
    """Thin: the builder claims the row under a lock, so a second delivery of a finished report does nothing."""
    report.results_report_build(report_id=report_id)


@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def build_results_export(export_id: int) -> None:
    """Thin: the builder claims the row under a lock; a finished export is not built again."""
    from beta.results import exports

    exports.results_export_build(export_id=export_id)

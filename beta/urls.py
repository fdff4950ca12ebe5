from django.urls import path

from beta.views import comparisons as comparison_views
from beta.views import console as console_views
from beta.views import downloads
from beta.views import feedback as feedback_views
from beta.views import jobs as job_views
from beta.views import results as results_views
from beta.views import review as review_views
from beta.views import surveys as survey_views

app_name = "beta"

urlpatterns = [
    path("tools/", job_views.catalogue, name="catalogue"),
    path("tools/<slug:tool_slug>/", job_views.submit, name="submit"),
    path("jobs/", job_views.job_list, name="job-list"),
    path("jobs/live/", job_views.job_list_rows, name="job-list-rows"),
    path("jobs/recent/", job_views.job_recent, name="job-recent"),
    path("jobs/<int:job_id>/", job_views.job_detail, name="job-detail"),
    path("jobs/<int:job_id>/live/", job_views.job_live, name="job-live"),
    path("jobs/<int:job_id>/subtitles.vtt", job_views.job_subtitles, name="job-subtitles"),
    path("jobs/<int:job_id>/outputs-with-provenance.zip", downloads.job_outputs_zip, name="job-outputs-zip"),
    path("jobs/<int:job_id>/cancel/", job_views.job_cancel, name="job-cancel"),
    path("jobs/<int:job_id>/retry/", job_views.job_retry, name="job-retry"),
    path("staff/jobs/", job_views.staff_job_list, name="staff-jobs"),
]

# The staff console: tools (availability per cohort, queues live) and studios' quotas.
urlpatterns += [
    path("staff/tools/", console_views.tools_page, name="staff-tools"),
    path("staff/tools/queues/", console_views.tools_queues, name="staff-tool-queues"),
    path("staff/tools/<slug:tool_slug>/switch/", console_views.tool_switch, name="staff-tool-switch"),
    path("staff/quotas/", console_views.quota_list, name="staff-quotas"),
    path("staff/quotas/<int:organization_id>/", console_views.quota_detail, name="staff-quota"),
]

# Feedback on a run (partner) and the staff triage inbox.
urlpatterns += [
    path("jobs/<int:job_id>/feedback/", feedback_views.feedback_start, name="feedback-start"),
    path("feedback/", feedback_views.feedback_list, name="feedback-list"),
    path("feedback/<int:report_id>/", feedback_views.feedback_detail, name="feedback-detail"),
    path("feedback/<int:report_id>/edit/", feedback_views.feedback_edit, name="feedback-edit"),
    path("feedback/<int:report_id>/draft/", feedback_views.feedback_draft, name="feedback-draft"),
    path("feedback/<int:report_id>/notes/", feedback_views.feedback_note_add, name="feedback-note-add"),
    path("feedback/notes/<int:feedbacknote_id>/delete/", feedback_views.feedback_note_delete,
         name="feedback-note-delete"),
    path("feedback/<int:report_id>/attachments/", feedback_views.feedback_attach, name="feedback-attach"),
    path("feedback/attachments/<int:feedbackattachment_id>/remove/", feedback_views.feedback_attachment_remove,
         name="feedback-attachment-remove"),
    path("staff/feedback/", feedback_views.feedback_inbox, name="feedback-inbox"),
    path("staff/feedback/bulk/", feedback_views.feedback_bulk, name="feedback-bulk"),
    path("staff/feedback/<int:report_id>/triage/", feedback_views.feedback_triage, name="feedback-triage"),
    path("staff/feedback/<int:report_id>/comments/", feedback_views.feedback_comment, name="feedback-comment"),
]

# Surveys (partners answer; staff build, assign and read) and blind comparisons.
urlpatterns += [
    path("surveys/", survey_views.survey_list, name="survey-list"),
    path("surveys/<int:survey_id>/", survey_views.survey_respond, name="survey-respond"),
    path("staff/surveys/", survey_views.staff_survey_list, name="staff-surveys"),
    path("staff/surveys/<int:survey_id>/", survey_views.staff_survey, name="staff-survey"),
    path("staff/surveys/<int:survey_id>/questions/", survey_views.staff_question_add, name="staff-survey-question-add"),
    path("staff/surveys/<int:survey_id>/assign/", survey_views.staff_assignment_set, name="staff-survey-assign"),
    path("staff/surveys/<int:survey_id>/results/", survey_views.staff_survey_results, name="staff-survey-results"),
    path("staff/surveys/questions/<int:question_id>/move/", survey_views.staff_question_move,
         name="staff-survey-question-move"),
    path("staff/surveys/questions/<int:question_id>/remove/", survey_views.staff_question_remove,
         name="staff-survey-question-remove"),
    path("staff/surveys/assignments/<int:surveyassignment_id>/remove/", survey_views.staff_assignment_remove,
         name="staff-survey-assignment-remove"),
    path("comparisons/", comparison_views.comparison_list, name="comparison-list"),
    path("comparisons/<int:comparison_id>/", comparison_views.comparison_vote, name="comparison-vote"),
    # The side is fixed per URL (not a kwarg in the path) so the page's media URLs say only left or right.
    path("comparisons/<int:comparison_id>/left/", comparison_views.comparison_side, {"side": "left"},
         name="comparison-side-left"),
    path("comparisons/<int:comparison_id>/right/", comparison_views.comparison_side, {"side": "right"},
         name="comparison-side-right"),
    path("staff/comparisons/", comparison_views.staff_comparison_list, name="staff-comparisons"),
    path("staff/comparisons/new/", comparison_views.staff_comparison_new, name="staff-comparison-new"),
    path("staff/comparisons/<int:comparison_id>/", comparison_views.staff_comparison, name="staff-comparison"),
    path("staff/comparisons/<int:comparison_id>/status/", comparison_views.staff_comparison_status,
         name="staff-comparison-status"),
]

# The May results (staff): dashboard, exports, quotes, and the report a worker builds.
urlpatterns += [
    path("staff/results/", results_views.dashboard, name="results-dashboard"),
    path("staff/results/quotes/", results_views.quote_toggle, name="results-quote"),
    path("staff/results/export/", results_views.export, name="results-export"),
    path("staff/results/exports/<int:resultsexport_id>/", results_views.export_detail, name="results-export-detail"),
    path("staff/results/exports/<int:resultsexport_id>/live/", results_views.export_live,
         name="results-export-live"),
    path("staff/results/exports/<int:resultsexport_id>/download/", results_views.export_download,
         name="results-export-download"),
    path("staff/results/reports/", results_views.report_create, name="results-report-create"),
    path("staff/results/reports/<int:resultsreport_id>/", results_views.report_detail, name="results-report"),
    path("staff/results/reports/<int:resultsreport_id>/edit/", results_views.report_update,
         name="results-report-edit"),
    path("staff/results/reports/<int:resultsreport_id>/live/", results_views.report_live,
         name="results-report-live"),
    path("staff/results/reports/<int:resultsreport_id>/report.pdf", results_views.report_pdf,
         name="results-report-pdf"),
    path("staff/results/reports/<int:resultsreport_id>/report.html", results_views.report_html,
         name="results-report-html"),
]

# The review room: notes for the player, threads, export, compare.
urlpatterns += [
    path("review/assets/<int:asset_id>/notes.json", review_views.asset_notes, name="review-asset-notes"),
    path("review/feedback/<int:report_id>/notes.json", review_views.report_notes, name="review-report-notes"),
    path("review/feedback/<int:report_id>/notes.csv", review_views.notes_csv, name="review-notes-csv"),
    path("review/feedback/<int:report_id>/notes.pdf", review_views.notes_pdf, name="review-notes-pdf"),
    path("review/notes/<int:feedbacknote_id>/replies/", review_views.note_reply, name="review-note-reply"),
    path("review/notes/<int:feedbacknote_id>/frame.png", review_views.note_frame, name="review-note-frame"),
    path("review/compare/", review_views.compare, name="review-compare"),
]

from django.urls import path

from beta.review import views

urlpatterns = [
    path("review/assets/<int:asset_id>/notes.json", views.asset_notes, name="review-asset-notes"),
    path("review/feedback/<int:report_id>/notes.json", views.report_notes, name="review-report-notes"),
    path("review/feedback/<int:report_id>/notes.csv", views.notes_csv, name="review-notes-csv"),
    path("review/feedback/<int:report_id>/notes.pdf", views.notes_pdf, name="review-notes-pdf"),
    path("review/notes/<int:feedbacknote_id>/replies/", views.note_reply, name="review-note-reply"),
    path("review/notes/<int:feedbacknote_id>/frame.png", views.note_frame, name="review-note-frame"),
    path("review/compare/", views.compare, name="review-compare"),
]

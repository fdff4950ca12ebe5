"""The programme's models, one module per area: jobs, feedback, surveys, blind comparisons, results reports."""

from beta.models.comparisons import Comparison, ComparisonVote
from beta.models.feedback import (
    FeedbackAttachment,
    FeedbackCategory,
    FeedbackComment,
    FeedbackNote,
    FeedbackNoteReply,
    FeedbackReadMark,
    FeedbackReport,
    FeedbackRevision,
    FeedbackTag,
)
from beta.models.jobs import Job, JobInput, JobOutput, StudioUsage, ToolSwitch, WorkerHeartbeat
from beta.models.reports import ResultsExport, ResultsReport
from beta.models.surveys import Question, Survey, SurveyAnswer, SurveyAssignment, SurveyResponse

__all__ = [
    "Comparison",
    "ComparisonVote",
    "FeedbackAttachment",
    "FeedbackCategory",
    "FeedbackComment",
    "FeedbackNote",
    "FeedbackNoteReply",
    "FeedbackReadMark",
    "FeedbackReport",
    "FeedbackRevision",
    "FeedbackTag",
    "Job",
    "JobInput",
    "JobOutput",
    "Question",
    "ResultsExport",
    "ResultsReport",
    "StudioUsage",
    "Survey",
    "SurveyAnswer",
    "SurveyAssignment",
    "SurveyResponse",
    "ToolSwitch",
    "WorkerHeartbeat",
]

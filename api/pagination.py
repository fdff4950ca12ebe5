"""Cursor pagination: stable under inserts, and as fast on the last page as on the first (no OFFSET)."""

from rest_framework.pagination import CursorPagination


class _Cursor(CursorPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class JobCursor(_Cursor):
    ordering = ("-queued_at", "-id")


class AssetCursor(_Cursor):
    ordering = ("-created_at", "-id")


class FeedbackCursor(_Cursor):
    ordering = ("-updated_at", "-id")


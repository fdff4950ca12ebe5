"""Celery's `shared_task` with types. Celery ships none, so its decorator makes every task untyped for mypy; this
one is the very same decorator, declared to keep the task's own signature for calls, `.delay` and `.apply_async`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, Protocol, TypeVar

from celery import shared_task as _celery_shared_task

P = ParamSpec("P")
R = TypeVar("R", covariant=True)


class TypedTask(Protocol[P, R]):
    """What mypy needs of a Celery task; the results of `.delay` and `.apply_async` are Celery's (untyped)."""

    name: str

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    def delay(self, *args: P.args, **kwargs: P.kwargs) -> Any: ...

    def apply_async(
        self, args: tuple[Any, ...] | None = None, kwargs: dict[str, Any] | None = None, **options: Any
    ) -> Any: ...


def shared_task(**options: Any) -> Callable[[Callable[P, R]], TypedTask[P, R]]:
    """`@shared_task(ignore_result=True, ...)`: Celery's decorator with these options, unchanged."""
    decorator: Callable[[Callable[P, R]], TypedTask[P, R]] = _celery_shared_task(**options)
    return decorator

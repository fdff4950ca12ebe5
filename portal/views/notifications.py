"""A person's notifications: the page listing them, the bell's count, opening one, marking all read."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from portal.models import Notification
from portal.services import notifications as service

PAGE_SIZE = 30


@login_required
@require_GET
def notification_list(request):
    page = Paginator(Notification.objects.for_user(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    unread = service.unread_count(request.user)
    return render(request, "portal/notifications/list.html", {"page": page, "unread": unread})


@require_GET
def bell(request):
    """The bell's count, polled by htmx: one COUNT query. 204 (htmx keeps what it shows) when it has not changed, so
    screen readers hear of a change only."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    count = service.unread_count(request.user)
    if request.GET.get("shown") == str(count):
        return HttpResponse(status=204)
    return render(request, "partials/bell_count.html", {"unread": count})


@login_required
@require_GET
def notification_open(request, notification_id: int):
    """Open one notification: it is read from now on, and the person lands on the page it is about."""
    try:
        notification = service.notification_open(user=request.user, notification_id=notification_id)
    except Notification.DoesNotExist:
        raise Http404("No such notification.") from None
    return redirect(notification.url or "portal:notifications")


@login_required
@require_POST
def notifications_mark_all_read(request):
    marked = service.notifications_mark_all_read(user=request.user)
    messages.success(request, f"Marked {marked} notification{'s' if marked != 1 else ''} read." if marked
                     else "Nothing was unread.")
    return redirect("portal:notifications")

from django.urls import path

from portal.theme import theme_set
from portal.timezones import time_zone_detect, time_zone_settings
from portal.views import access, console, lifecycle, notifications, partner, public, staff

app_name = "portal"

urlpatterns = [
    path("", public.landing, name="landing"),
    path("home/", public.home, name="home"),
    path("me/time-zone/", time_zone_detect, name="time-zone-detect"),
    path("me/settings/", time_zone_settings, name="time-zone-settings"),
    path("me/theme/", theme_set, name="theme"),
    # A person's notifications
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/bell/", notifications.bell, name="notifications-bell"),
    path("notifications/read-all/", notifications.notifications_mark_all_read, name="notifications-read-all"),
    path("notifications/<int:notification_id>/", notifications.notification_open, name="notification-open"),
    path("tdm-policy/", public.tdm_policy, name="tdm-policy"),
    path(".well-known/tdmrep.json", public.tdmrep_json, name="tdmrep"),
    path("robots.txt", public.robots_txt, name="robots"),
    # Invites and the beta agreement
    path("invite/<str:token>/", access.invite, name="invite"),
    path("agreement/", access.agreement, name="agreement"),
    # Partner pages
    path("dashboard/", partner.dashboard, name="dashboard"),
    path("team/", partner.team, name="team"),
    path("team/invites/<int:invite_id>/resend/", partner.team_invite_resend, name="team-invite-resend"),
    path("team/invites/<int:invite_id>/revoke/", partner.team_invite_revoke, name="team-invite-revoke"),
    path("team/members/<int:membership_id>/role/", partner.team_member_role, name="team-member-role"),
    path("team/members/<int:membership_id>/remove/", partner.team_member_remove, name="team-member-remove"),
    # Staff pages
    path("staff/", staff.staff_home, name="staff-home"),
    path("staff/studios/", staff.studio_list, name="staff-studios"),
    path("staff/studios/<int:organization_id>/", staff.studio_detail, name="staff-studio"),
    path("staff/studios/<int:organization_id>/suspend/", lifecycle.studio_suspend, name="staff-studio-suspend"),
    path("staff/studios/<int:organization_id>/lift/", lifecycle.studio_suspension_lift, name="staff-studio-lift"),
    path("staff/studios/<int:organization_id>/offboard/", lifecycle.studio_offboard, name="staff-studio-offboard"),
    path("staff/cohorts/", staff.cohort_list, name="staff-cohorts"),
    path("staff/cohorts/<int:cohort_id>/", staff.cohort_detail, name="staff-cohort"),
    path("staff/invites/", staff.invite_list, name="staff-invites"),
    path("staff/invites/upload/", staff.invite_upload, name="staff-invite-upload"),
    path("staff/invites/<int:invite_id>/resend/", staff.invite_resend, name="staff-invite-resend"),
    path("staff/invites/<int:invite_id>/revoke/", staff.invite_revoke, name="staff-invite-revoke"),
    path("staff/audit/", staff.audit_list, name="staff-audit"),
    # The staff console: the agreement's versions
    path("staff/agreements/", console.agreement_list, name="staff-agreements"),
    path("staff/agreements/<int:agreementversion_id>/", console.agreement_detail, name="staff-agreement"),
    path("staff/agreements/<int:agreementversion_id>/publish/", console.agreement_publish_view,
         name="staff-agreement-publish"),
]

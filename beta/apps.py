from django.apps import AppConfig


class BetaConfig(AppConfig):
    name = "beta"
    verbose_name = "Beta programme"

    def ready(self):
        from assets.selectors import register_origin_provider, register_stack_provider, register_usage_provider
        from beta.selectors import asset_usage, output_origin, stack_versions

        register_usage_provider(asset_usage)
        register_stack_provider(stack_versions)  # the library's version stacks
        register_origin_provider(output_origin)  # an output's lineage on its page

        from beta import signals

        signals.connect()  # cached tool switches are dropped when they change

        # The tool catalogue reads no Django settings itself: it gets the ones tools may read.
        from beta import tools as catalogue
        from beta.tool_settings import ToolSettings

        catalogue.configure(settings=ToolSettings())

        # Tasks outside beta/tasks.py register here: the results report's, and the survey beat task.
        # Surveys due and comparisons to judge show on the partner dashboard through the portal's panel hook, with
        # the home's checklist steps, recent jobs, unread replies and quota bars (beta/home.py).
        import beta.results.tasks
        import beta.surveys.tasks  # noqa: F401
        from beta import home
        from beta.comparisons.selectors import dashboard_panel as comparisons_panel
        from beta.surveys.selectors import dashboard_panel as surveys_panel
        from portal.dashboard_panels import register_checklist_steps, register_dashboard_panel

        register_checklist_steps(home.getting_started_steps)
        register_dashboard_panel(home.recent_jobs_panel)
        register_dashboard_panel(home.replies_panel)
        register_dashboard_panel(surveys_panel)
        register_dashboard_panel(comparisons_panel)
        register_dashboard_panel(home.usage_panel)

        from beta import lifecycle

        lifecycle.register()  # what offboarding cancels (portal/lifecycle.py)

        # People hear of their jobs, replies, surveys, comparisons and quotas through portal.events.
        from beta.notifications import event_received
        from portal.events import subscribe

        subscribe(event_received)

from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Approval workflows"

    def ready(self):
        from registry import policies as registry_policies

        from . import policies

        # Put the registry's direct stage and alias changes under workflow policies.
        registry_policies.add_transition_rule(policies.direct_transition_rule)
        registry_policies.add_alias_rule(policies.protected_alias_rule)
        # A custom stage its requests or policies still name cannot be deleted.
        registry_policies.add_stage_delete_rule(policies.stage_in_use_rule)

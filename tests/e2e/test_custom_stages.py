"""The real mlflow client against a live Modelgate with custom stages: a version moves into
one by any spelling of its name, get_latest_versions and models:/<name>/<stage> find it, and
the built-ins answer exactly as they do without custom stages."""

import pytest
from mlflow.exceptions import MlflowException
from mlflow.store.artifact.models_artifact_repo import ModelsArtifactRepository

from registry import actions

pytestmark = [
    pytest.mark.e2e,
    # Stages are deprecated client-side (FutureWarning) but still part of the API.
    pytest.mark.filterwarnings("ignore:.*[Ss]tage.*:FutureWarning"),
]


@pytest.fixture
def shadow(ctx_for, admin_user):
    """Shadow: active, at the staging level, between Staging and Production; Quarantine: not
    active, after Production."""
    admin = ctx_for(admin_user)
    actions.stage_create(admin, name="Shadow", required_level="CAN_MANAGE_STAGING_VERSIONS", active=True, position=150)
    actions.stage_create(admin, name="Quarantine", required_level="CAN_MANAGE_PRODUCTION_VERSIONS")


def test_the_mlflow_client_moves_a_version_into_a_custom_stage_and_get_latest_versions_returns_it(
    mlflow_client, fluent_registry, shadow
):
    mlflow_client.create_registered_model("fraud")
    for n in (1, 2, 3):
        mlflow_client.create_model_version("fraud", f"s3://models/fraud/{n}")

    moved = mlflow_client.transition_model_version_stage("fraud", "1", "shadow")
    assert moved.current_stage == "Shadow"
    [latest] = mlflow_client.get_latest_versions("fraud", stages=["shadow"])
    assert (latest.version, latest.current_stage) == ("1", "Shadow")
    assert ModelsArtifactRepository.get_underlying_uri("models:/fraud/Shadow") == "s3://models/fraud/1"

    # Shadow is active: it archives what is in it, and counts when no stage is named.
    mlflow_client.transition_model_version_stage("fraud", "2", "SHADOW", archive_existing_versions=True)
    assert mlflow_client.get_model_version("fraud", "1").current_stage == "Archived"
    mlflow_client.transition_model_version_stage("fraud", "3", "quarantine")
    assert [(v.version, v.current_stage) for v in mlflow_client.get_latest_versions("fraud")] == [
        ("1", "Archived"), ("2", "Shadow"),
    ]
    assert [v.version for v in mlflow_client.get_latest_versions("fraud", stages=["Quarantine"])] == ["3"]
    assert [v.current_stage for v in mlflow_client.get_registered_model("fraud").latest_versions] == [
        "Archived", "Shadow",
    ]

    with pytest.raises(MlflowException) as refused:
        mlflow_client.transition_model_version_stage("fraud", "3", "Shadowy")
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Value must be one of None, Staging, Shadow, Production, Quarantine, Archived." in refused.value.message


def test_the_built_in_stages_answer_as_before_with_custom_stages_defined(mlflow_client, shadow):
    mlflow_client.create_registered_model("churn")
    for n in (1, 2):
        mlflow_client.create_model_version("churn", f"s3://models/churn/{n}")

    assert mlflow_client.transition_model_version_stage("churn", "1", "production").current_stage == "Production"
    mlflow_client.transition_model_version_stage("churn", "2", "Production", archive_existing_versions=True)
    assert mlflow_client.get_model_version("churn", "1").current_stage == "Archived"
    assert [(v.version, v.current_stage) for v in mlflow_client.get_latest_versions("churn", stages=["production"])] == [
        ("2", "Production"),
    ]
    with pytest.raises(MlflowException) as refused:
        mlflow_client.transition_model_version_stage("churn", "1", "None", archive_existing_versions=True)
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "'None' is not an Active stage. Valid stages are Staging, Shadow, Production." in refused.value.message

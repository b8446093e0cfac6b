"""The split deployment users run: a real MLflow tracking server keeps runs, logged models and
artifacts; Modelgate is the registry (MLFLOW_REGISTRY_URI). A model is logged and registered in
one log_model call, given an alias, and loaded back by that alias for inference."""

import json

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

pytestmark = pytest.mark.e2e


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        return model_input * 2


@pytest.fixture
def split_env(mlflow_env, tracking_server, registry_url, issue_token, owner):
    """Runs and artifacts go to the tracking server, the registry is Modelgate. The client
    sends the same bearer token to both; the tracking server ignores it."""
    mlflow_env.setenv("MLFLOW_TRACKING_URI", tracking_server)
    mlflow_env.setenv("MLFLOW_REGISTRY_URI", registry_url)
    mlflow_env.setenv("MLFLOW_TRACKING_TOKEN", issue_token(owner))
    # The run started below must not stay active if the test fails half-way.
    yield
    while mlflow.active_run():
        mlflow.end_run()


def test_model_logged_on_tracking_server_is_registered_in_modelgate_and_loads_by_alias(
    split_env, tracking_server, registry_url
):
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(
            name="model", python_model=Doubler(), pip_requirements=[],
            registered_model_name="doubler",
        )

    assert str(info.registered_model_version) == "1"
    assert (mlflow.get_tracking_uri(), mlflow.get_registry_uri()) == (tracking_server, registry_url)
    registry = MlflowClient()
    version = registry.get_model_version("doubler", "1")
    # Modelgate stores the logged model's URI verbatim; the client resolves it on the tracking
    # server when loading.
    assert version.source == f"models:/{info.model_id}"
    assert registry.get_model_version_download_uri("doubler", "1") == version.source
    # register_model linked the version back on the tracking server's logged model.
    logged = MlflowClient(tracking_uri=tracking_server).get_logged_model(info.model_id)
    assert logged.source_run_id == run.info.run_id
    assert json.loads(logged.tags["mlflow.modelVersions"]) == [{"name": "doubler", "version": "1"}]

    registry.set_registered_model_alias("doubler", "champion", "1")
    model = mlflow.pyfunc.load_model("models:/doubler@champion")
    prediction = model.predict(pd.DataFrame({"x": [1, 2, 3], "y": [0.5, -1.0, 10.0]}))

    assert prediction.to_dict("list") == {"x": [2, 4, 6], "y": [1.0, -2.0, 20.0]}

"""The real mlflow client (MlflowClient and the fluent API) against a live Modelgate: every
registry call a data scientist or an inference service makes, over real HTTP, judged by how
the client parses what the server answers."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.store.artifact.models_artifact_repo import ModelsArtifactRepository

from audit.ctx import Ctx
from registry import actions

pytestmark = [
    pytest.mark.e2e,
    # Stages are deprecated client-side (FutureWarning) but still part of the API.
    pytest.mark.filterwarnings("ignore:.*[Ss]tage.*:FutureWarning"),
]


def error_code_of(call, *args, **kwargs):
    with pytest.raises(MlflowException) as info:
        call(*args, **kwargs)
    return info.value.error_code


def versions_of(model_versions):
    return [int(mv.version) for mv in model_versions]


# Registered models and versions --------------------------------------------------------------


def test_registered_model_is_created_read_updated_renamed_and_deleted(mlflow_client):
    created = mlflow_client.create_registered_model(
        "fraud", tags={"team": "risk"}, description="Scores card payments."
    )
    assert created.name == "fraud"
    assert created.tags == {"team": "risk"}
    assert created.description == "Scores card payments."
    assert created.creation_timestamp > 0

    fetched = mlflow_client.get_registered_model("fraud")
    assert (fetched.name, fetched.tags, fetched.description) == (
        "fraud", {"team": "risk"}, "Scores card payments."
    )
    assert fetched.latest_versions == []

    updated = mlflow_client.update_registered_model("fraud", description="Scores payments.")
    assert updated.description == "Scores payments."
    assert mlflow_client.get_registered_model("fraud").description == "Scores payments."

    mlflow_client.create_model_version("fraud", "s3://models/fraud/1")
    # MlflowClient.rename_registered_model returns None (despite its annotation): read back.
    mlflow_client.rename_registered_model("fraud", "fraud-detector")
    assert error_code_of(mlflow_client.get_registered_model, "fraud") == "RESOURCE_DOES_NOT_EXIST"
    moved = mlflow_client.get_registered_model("fraud-detector")
    assert moved.tags == {"team": "risk"}
    assert versions_of(moved.latest_versions) == [1]
    assert mlflow_client.get_model_version("fraud-detector", "1").name == "fraud-detector"

    mlflow_client.delete_registered_model("fraud-detector")
    assert (
        error_code_of(mlflow_client.get_registered_model, "fraud-detector")
        == "RESOURCE_DOES_NOT_EXIST"
    )
    # The name is free again, and a new model of that name starts over at version 1.
    mlflow_client.create_registered_model("fraud-detector")
    assert mlflow_client.create_model_version("fraud-detector", "s3://models/fraud/2").version == "1"


def test_model_version_is_created_read_updated_and_deleted_without_reusing_its_number(
    mlflow_client,
):
    mlflow_client.create_registered_model("churn")
    first = mlflow_client.create_model_version(
        "churn", "s3://models/churn/1", tags={"framework": "sklearn"}, description="baseline"
    )
    assert first.version == "1"
    assert first.status == "READY"
    assert first.current_stage == "None"
    assert first.source == "s3://models/churn/1"
    assert first.tags == {"framework": "sklearn"}
    assert first.description == "baseline"
    assert first.user_id == "owner"
    assert mlflow_client.create_model_version("churn", "s3://models/churn/2").version == "2"

    updated = mlflow_client.update_model_version("churn", "1", description="the baseline")
    assert updated.description == "the baseline"
    fetched = mlflow_client.get_model_version("churn", "1")
    assert (fetched.version, fetched.description, fetched.source, fetched.tags) == (
        "1", "the baseline", "s3://models/churn/1", {"framework": "sklearn"}
    )
    assert fetched.last_updated_timestamp >= fetched.creation_timestamp > 0

    mlflow_client.delete_model_version("churn", "2")
    assert error_code_of(mlflow_client.get_model_version, "churn", "2") == "RESOURCE_DOES_NOT_EXIST"
    assert versions_of(mlflow_client.get_registered_model("churn").latest_versions) == [1]
    assert mlflow_client.create_model_version("churn", "s3://models/churn/3").version == "3"


def test_tags_on_models_and_versions_are_set_overwritten_and_deleted(mlflow_client):
    mlflow_client.create_registered_model("ranker")
    mlflow_client.create_model_version("ranker", "s3://models/ranker/1")

    mlflow_client.set_registered_model_tag("ranker", "team", "search")
    mlflow_client.set_registered_model_tag("ranker", "team", "discovery")
    mlflow_client.set_registered_model_tag("ranker", "mlflow.note.content", "Ranks results.")
    assert mlflow_client.get_registered_model("ranker").tags == {
        "team": "discovery", "mlflow.note.content": "Ranks results.",
    }
    mlflow_client.delete_registered_model_tag("ranker", "team")
    mlflow_client.delete_registered_model_tag("ranker", "team")  # deleting twice is harmless
    assert mlflow_client.get_registered_model("ranker").tags == {
        "mlflow.note.content": "Ranks results."
    }

    mlflow_client.set_model_version_tag("ranker", "1", "validated", "false")
    mlflow_client.set_model_version_tag("ranker", "1", "validated", "true")
    mlflow_client.set_model_version_tag("ranker", "1", "dataset", "clicks-2024")
    assert mlflow_client.get_model_version("ranker", "1").tags == {
        "validated": "true", "dataset": "clicks-2024",
    }
    mlflow_client.delete_model_version_tag("ranker", "1", "validated")
    assert mlflow_client.get_model_version("ranker", "1").tags == {"dataset": "clicks-2024"}


def test_alias_is_set_moved_resolved_and_deleted(mlflow_client):
    mlflow_client.create_registered_model("pricing")
    for n in (1, 2):
        mlflow_client.create_model_version("pricing", f"s3://models/pricing/{n}")

    mlflow_client.set_registered_model_alias("pricing", "champion", "1")
    champion = mlflow_client.get_model_version_by_alias("pricing", "champion")
    assert (champion.version, champion.source) == ("1", "s3://models/pricing/1")
    assert champion.aliases == ["champion"]
    assert mlflow_client.get_registered_model("pricing").aliases == {"champion": "1"}

    # Setting it again moves it.
    mlflow_client.set_registered_model_alias("pricing", "champion", "2")
    mlflow_client.set_registered_model_alias("pricing", "challenger", "2")
    assert mlflow_client.get_model_version_by_alias("pricing", "champion").version == "2"
    assert mlflow_client.get_model_version("pricing", "1").aliases == []
    assert sorted(mlflow_client.get_model_version("pricing", "2").aliases) == [
        "challenger", "champion",
    ]
    assert mlflow_client.get_registered_model("pricing").aliases == {
        "champion": "2", "challenger": "2",
    }

    mlflow_client.delete_registered_model_alias("pricing", "champion")
    mlflow_client.delete_registered_model_alias("pricing", "champion")  # twice is harmless
    assert (
        error_code_of(mlflow_client.get_model_version_by_alias, "pricing", "champion")
        == "INVALID_PARAMETER_VALUE"
    )
    assert mlflow_client.get_registered_model("pricing").aliases == {"challenger": "2"}
    # An alias on a version that does not exist is refused.
    assert (
        error_code_of(mlflow_client.set_registered_model_alias, "pricing", "champion", "9")
        == "RESOURCE_DOES_NOT_EXIST"
    )


def test_models_uri_with_an_alias_resolves_through_the_registry(mlflow_client, fluent_registry):
    mlflow_client.create_registered_model("eta")
    for n in (1, 2):
        mlflow_client.create_model_version("eta", f"s3://models/eta/{n}")
    mlflow_client.set_registered_model_alias("eta", "prod", "2")

    # What pyfunc.load_model does first: models:/<name>@<alias> -> the version's artifact URI.
    uri = ModelsArtifactRepository.get_underlying_uri("models:/eta@prod")
    assert uri == "s3://models/eta/2"


# Stages ----------------------------------------------------------------------------------------


def test_transition_to_production_archives_the_previous_production_version(mlflow_client):
    mlflow_client.create_registered_model("credit")
    for n in (1, 2, 3):
        mlflow_client.create_model_version("credit", f"s3://models/credit/{n}")
    mlflow_client.transition_model_version_stage("credit", "1", "Production")
    mlflow_client.transition_model_version_stage("credit", "2", "staging")  # any case is fine

    promoted = mlflow_client.transition_model_version_stage(
        "credit", "3", "Production", archive_existing_versions=True
    )

    assert promoted.current_stage == "Production"
    assert mlflow_client.get_model_version("credit", "1").current_stage == "Archived"
    assert mlflow_client.get_model_version("credit", "2").current_stage == "Staging"
    assert mlflow_client.get_model_version("credit", "3").current_stage == "Production"
    assert (
        error_code_of(mlflow_client.transition_model_version_stage, "credit", "3", "Bogus")
        == "INVALID_PARAMETER_VALUE"
    )


def test_get_latest_versions_returns_the_newest_version_in_each_stage(mlflow_client,
                                                                       fluent_registry):
    mlflow_client.create_registered_model("ltv")
    for n in (1, 2, 3, 4):
        mlflow_client.create_model_version("ltv", f"s3://models/ltv/{n}")
    mlflow_client.transition_model_version_stage("ltv", "1", "Production")
    mlflow_client.transition_model_version_stage("ltv", "2", "Staging")
    mlflow_client.transition_model_version_stage("ltv", "3", "Production")

    production = mlflow_client.get_latest_versions("ltv", stages=["Production"])
    assert [(mv.version, mv.current_stage) for mv in production] == [("3", "Production")]
    both = mlflow_client.get_latest_versions("ltv", stages=["Staging", "Production"])
    assert sorted((mv.current_stage, mv.version) for mv in both) == [
        ("Production", "3"), ("Staging", "2"),
    ]
    everything = mlflow_client.get_latest_versions("ltv")
    assert sorted((mv.current_stage, mv.version) for mv in everything) == [
        ("None", "4"), ("Production", "3"), ("Staging", "2"),
    ]
    assert sorted(
        (mv.current_stage, mv.version)
        for mv in mlflow_client.get_registered_model("ltv").latest_versions
    ) == [("None", "4"), ("Production", "3"), ("Staging", "2")]
    # models:/<name>/<stage> and models:/<name>/latest are resolved through get-latest-versions.
    assert ModelsArtifactRepository.get_underlying_uri("models:/ltv/Production") == (
        "s3://models/ltv/3"
    )
    assert ModelsArtifactRepository.get_underlying_uri("models:/ltv/latest") == "s3://models/ltv/4"


# Search ----------------------------------------------------------------------------------------


def test_search_registered_models_filters_orders_and_walks_pages(mlflow_client):
    for n in range(1, 6):
        mlflow_client.create_registered_model(f"alpha-{n}", tags={"team": "a" if n % 2 else "b"})
    mlflow_client.create_registered_model("Alpha-upper")
    mlflow_client.create_registered_model("beta-1")

    def names(**kwargs):
        return [m.name for m in mlflow_client.search_registered_models(**kwargs)]

    alphas = ["alpha-1", "alpha-2", "alpha-3", "alpha-4", "alpha-5"]
    assert names(filter_string="name LIKE 'alpha-%'") == alphas
    # Where "Alpha-upper" sorts among the others depends on the database collation.
    assert sorted(names(filter_string="name ILIKE 'ALPHA-%'")) == sorted(["Alpha-upper", *alphas])
    assert names(filter_string="name = 'beta-1'") == ["beta-1"]
    assert names(filter_string="tags.team = 'a'") == ["alpha-1", "alpha-3", "alpha-5"]
    assert names(filter_string="name LIKE 'alpha-%' AND tags.`team` != 'a'") == [
        "alpha-2", "alpha-4",
    ]
    assert names(filter_string="name LIKE 'alpha-%'", order_by=["name DESC"]) == alphas[::-1]

    walked, tokens, page_token = [], [], None
    while True:
        page = mlflow_client.search_registered_models(
            filter_string="name LIKE 'alpha-%'", max_results=2, order_by=["name ASC"],
            page_token=page_token,
        )
        walked.append([m.name for m in page])
        if not page.token:
            break
        tokens.append(page.token)
        page_token = page.token
    assert walked == [["alpha-1", "alpha-2"], ["alpha-3", "alpha-4"], ["alpha-5"]]
    assert len(set(tokens)) == 2


def test_fluent_search_registered_models_walks_every_page(fluent_registry, owner):
    # More models than one page of the fluent helper (it asks for 100 at a time).
    ctx = Ctx.cli(owner)
    expected = [f"bulk-{n:03d}" for n in range(105)]
    for name in expected:
        actions.model_create(ctx, name=name)

    found = mlflow.search_registered_models(filter_string="name LIKE 'bulk-%'")

    assert [m.name for m in found] == expected
    assert [m.name for m in mlflow.search_registered_models(max_results=3)] == expected[:3]


def test_search_model_versions_filters_orders_and_walks_pages(mlflow_client, fluent_registry):
    mlflow_client.create_registered_model("svc")
    mlflow_client.create_registered_model("other")
    for n in range(1, 6):
        mlflow_client.create_model_version(
            "svc", f"s3://models/svc/{n}", run_id=f"run{n}", tags={"parity": "odd" if n % 2 else "even"}
        )
    for n in range(1, 3):
        mlflow_client.create_model_version("other", f"s3://models/other/{n}", run_id=f"run{n}")

    def found(filter_string, **kwargs):
        return [
            (mv.name, int(mv.version))
            for mv in mlflow_client.search_model_versions(filter_string, **kwargs)
        ]

    assert found("name = 'svc'", order_by=["version_number DESC"]) == [
        ("svc", 5), ("svc", 4), ("svc", 3), ("svc", 2), ("svc", 1),
    ]
    assert found("name = 'svc' AND version_number > 2", order_by=["version_number ASC"]) == [
        ("svc", 3), ("svc", 4), ("svc", 5),
    ]
    assert found("run_id IN ('run1', 'run2')", order_by=["name ASC", "version_number ASC"]) == [
        ("other", 1), ("other", 2), ("svc", 1), ("svc", 2),
    ]
    assert found("tags.parity = 'even'", order_by=["version_number ASC"]) == [
        ("svc", 2), ("svc", 4),
    ]
    assert found("source_path = 's3://models/other/2'") == [("other", 2)]
    assert found("name LIKE 'nomatch%'") == []

    walked, page_token = [], None
    while True:
        page = mlflow_client.search_model_versions(
            "name = 'svc'", max_results=2, order_by=["version_number ASC"], page_token=page_token
        )
        walked.append(versions_of(page))
        if not page.token:
            break
        page_token = page.token
    assert walked == [[1, 2], [3, 4], [5]]

    assert sorted(versions_of(mlflow.search_model_versions(filter_string="name = 'svc'"))) == [
        1, 2, 3, 4, 5,
    ]


# Errors ----------------------------------------------------------------------------------------


def test_duplicate_model_name_raises_resource_already_exists(mlflow_client):
    mlflow_client.create_registered_model("dup")
    assert error_code_of(mlflow_client.create_registered_model, "dup") == "RESOURCE_ALREADY_EXISTS"
    mlflow_client.create_registered_model("dup-2")
    assert (
        error_code_of(mlflow_client.rename_registered_model, "dup-2", "dup")
        == "RESOURCE_ALREADY_EXISTS"
    )


def test_missing_model_or_version_raises_resource_does_not_exist(mlflow_client):
    assert error_code_of(mlflow_client.get_registered_model, "nope") == "RESOURCE_DOES_NOT_EXIST"
    assert (
        error_code_of(mlflow_client.create_model_version, "nope", "s3://models/nope/1")
        == "RESOURCE_DOES_NOT_EXIST"
    )
    mlflow_client.create_registered_model("present")
    assert (
        error_code_of(mlflow_client.get_model_version, "present", "99")
        == "RESOURCE_DOES_NOT_EXIST"
    )
    assert (
        error_code_of(mlflow_client.update_model_version, "present", "99", "x")
        == "RESOURCE_DOES_NOT_EXIST"
    )
    assert (
        error_code_of(mlflow_client.delete_model_version, "present", "99")
        == "RESOURCE_DOES_NOT_EXIST"
    )


def test_missing_alias_raises_invalid_parameter_value(mlflow_client):
    mlflow_client.create_registered_model("aliased")
    mlflow_client.create_model_version("aliased", "s3://models/aliased/1")
    assert (
        error_code_of(mlflow_client.get_model_version_by_alias, "aliased", "nope")
        == "INVALID_PARAMETER_VALUE"
    )


def test_bad_filter_or_order_by_raises_invalid_parameter_value(mlflow_client):
    assert (
        error_code_of(mlflow_client.search_registered_models, "name = 'a' OR name = 'b'")
        == "INVALID_PARAMETER_VALUE"
    )
    assert (
        error_code_of(mlflow_client.search_registered_models, "flavor = 'sklearn'")
        == "INVALID_PARAMETER_VALUE"
    )
    assert (
        error_code_of(mlflow_client.search_model_versions, "version_number > 'abc'")
        == "INVALID_PARAMETER_VALUE"
    )
    assert (
        error_code_of(mlflow_client.search_model_versions, "", order_by=["size DESC"])
        == "INVALID_PARAMETER_VALUE"
    )
    assert (
        error_code_of(mlflow_client.search_registered_models, max_results=1001)
        == "INVALID_PARAMETER_VALUE"
    )


def test_invalid_names_versions_and_aliases_raise_invalid_parameter_value(mlflow_client):
    assert (
        error_code_of(mlflow_client.create_registered_model, "team/model")
        == "INVALID_PARAMETER_VALUE"
    )
    mlflow_client.create_registered_model("named")
    mlflow_client.create_model_version("named", "s3://models/named/1")
    assert (
        error_code_of(mlflow_client.get_model_version, "named", "abc")
        == "INVALID_PARAMETER_VALUE"
    )
    for reserved in ("latest", "v1", "V2"):
        assert (
            error_code_of(mlflow_client.set_registered_model_alias, "named", reserved, "1")
            == "INVALID_PARAMETER_VALUE"
        )


# Sources ---------------------------------------------------------------------------------------


def test_register_model_with_a_logged_model_uri_stores_it_verbatim(mlflow_client,
                                                                   fluent_registry):
    model_uri = f"models:/m-{uuid.uuid4().hex}"

    first = mlflow.register_model(model_uri, "recsys")
    # The model exists now: register_model swallows RESOURCE_ALREADY_EXISTS and adds a version.
    second = mlflow.register_model(model_uri, "recsys")

    assert (first.name, first.version, first.source) == ("recsys", "1", model_uri)
    assert second.version == "2"
    assert mlflow_client.get_model_version("recsys", "1").source == model_uri
    assert mlflow_client.get_model_version_download_uri("recsys", "1") == model_uri


def test_runs_uri_source_is_stored_and_returned_verbatim(mlflow_client):
    run_id = uuid.uuid4().hex
    source = f"runs:/{run_id}/model"
    mlflow_client.create_registered_model("from-run")

    mv = mlflow_client.create_model_version("from-run", source, run_id=run_id)

    assert (mv.source, mv.run_id) == (source, run_id)
    fetched = mlflow_client.get_model_version("from-run", mv.version)
    assert (fetched.source, fetched.run_id) == (source, run_id)
    assert mlflow_client.get_model_version_download_uri("from-run", mv.version) == source
    # A runs:/ source naming another run than run_id is refused.
    assert (
        error_code_of(mlflow_client.create_model_version, "from-run", source, run_id="other")
        == "INVALID_PARAMETER_VALUE"
    )


def test_local_path_source_is_refused_and_creates_nothing(mlflow_client, tmp_path):
    mlflow_client.create_registered_model("local")
    for source in (str(tmp_path / "model"), f"file://{tmp_path}/model", "s3://b/../etc"):
        assert (
            error_code_of(mlflow_client.create_model_version, "local", source)
            == "INVALID_PARAMETER_VALUE"
        ), source
    assert mlflow_client.search_model_versions("name = 'local'") == []
    assert mlflow_client.create_model_version("local", "s3://models/local/1").version == "1"


# Authentication ------------------------------------------------------------------------------


def test_basic_auth_with_username_and_password_works(registry_url, mlflow_env, owner):
    mlflow_env.setenv("MLFLOW_TRACKING_USERNAME", "owner")
    mlflow_env.setenv("MLFLOW_TRACKING_PASSWORD", "owner-pw-123")
    client = MlflowClient(registry_uri=registry_url)

    created = client.create_registered_model("basic-auth")

    assert created.name == "basic-auth"
    assert client.create_model_version("basic-auth", "s3://models/b/1").user_id == "owner"


def test_wrong_credentials_raise_unauthenticated(registry_url, mlflow_env, owner):
    client = MlflowClient(registry_uri=registry_url)

    def rejected():
        with pytest.raises(MlflowException) as info:
            client.search_registered_models()
        return info.value.error_code, info.value.get_http_status_code()

    assert rejected() == ("UNAUTHENTICATED", 401)  # no credentials at all
    mlflow_env.setenv("MLFLOW_TRACKING_TOKEN", "mg_not-a-real-token")
    assert rejected() == ("UNAUTHENTICATED", 401)
    mlflow_env.delenv("MLFLOW_TRACKING_TOKEN")
    mlflow_env.setenv("MLFLOW_TRACKING_USERNAME", "owner")
    mlflow_env.setenv("MLFLOW_TRACKING_PASSWORD", "wrong-password")
    assert rejected() == ("UNAUTHENTICATED", 401)


# Concurrency ---------------------------------------------------------------------------------


def test_parallel_create_model_version_calls_get_versions_1_to_24(registry_url, mlflow_client):
    mlflow_client.create_registered_model("hot")
    workers = 24
    start = threading.Barrier(workers)

    def create(n):
        client = MlflowClient(registry_uri=registry_url)
        start.wait(timeout=30)
        return client.create_model_version("hot", f"s3://models/hot/{n}")

    with ThreadPoolExecutor(max_workers=workers) as pool:
        created = list(pool.map(create, range(workers)))

    assert sorted(int(mv.version) for mv in created) == list(range(1, workers + 1))
    # Each call got its own version back, and the registry holds exactly those.
    assert [mv.source for mv in created] == [f"s3://models/hot/{n}" for n in range(workers)]
    stored = mlflow_client.search_model_versions("name = 'hot'")
    assert {(mv.version, mv.source) for mv in stored} == {(mv.version, mv.source) for mv in created}
    assert versions_of(mlflow_client.get_registered_model("hot").latest_versions) == [workers]


def test_copy_model_version_keeps_the_originals_location_after_it_is_deleted(mlflow_client):
    mlflow_client.create_registered_model("staging.churn")
    mlflow_client.create_model_version("staging.churn", "s3://bucket/churn/7")
    copied = mlflow_client.copy_model_version("models:/staging.churn/1", "prod.churn")
    assert (copied.name, copied.version, copied.source) == ("prod.churn", "1", "models:/staging.churn/1")

    mlflow_client.delete_model_version("staging.churn", "1")
    assert mlflow_client.get_model_version_download_uri("prod.churn", "1") == "s3://bucket/churn/7"

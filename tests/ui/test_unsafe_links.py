"""Links a client stored (a version's run_link) are only links when they are web addresses:
a `javascript:` run link would run in the reader's session when clicked."""

import pytest

from registry import actions


@pytest.mark.django_db
def test_a_stored_javascript_run_link_is_shown_but_never_a_link_on_the_version_page(client, owner, owner_ctx):
    actions.model_create(owner_ctx, name="fraud")
    actions.version_create(owner_ctx, name="fraud", source="s3://b/1", run_link="javascript:alert(document.cookie)")
    actions.version_create(owner_ctx, name="fraud", source="s3://b/2", run_link="https://tracking.example.com/#/runs/abc")
    client.force_login(owner)

    unsafe = client.get("/models/fraud/versions/1/").content.decode()
    safe = client.get("/models/fraud/versions/2/").content.decode()

    assert 'href="javascript:' not in unsafe and "javascript:alert(document.cookie)" in unsafe
    assert 'href="https://tracking.example.com/#/runs/abc"' in safe

"""Every write to the registry. Each action runs in one transaction, locks the registered
model it changes (the per-model mutex), re-checks state under the lock, and ends with exactly
one record() call. API views, the admin and commands all call these; nothing else writes.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.levels import Level
from audit import events
from audit.activity import record
from audit.errors import (
    InvalidParameterValue,
    PermissionDenied,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
    model_not_found,
    version_not_found,
)
from audit.timestamps import to_millis

from . import lineage, permissions, policies, selectors, stages, tracking, transitions, validators
from .models import (
    LINEAGE_NONE,
    LINEAGE_RESOLVED,
    LINEAGE_RESOLVING,
    LINEAGE_UNAVAILABLE,
    ModelTombstone,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
    Stage,
)


def _lock_model(name):
    model = RegisteredModel.objects.select_for_update().filter(name=name).first()
    if model is None:
        raise model_not_found(name)
    return model


def _live_version(model, number):
    version = model.versions.live().filter(version=validators.version_number(number)).first()
    if version is None:
        raise version_not_found(model.name, number)
    return version


def _take_deleted_name(ctx, name):
    """If `name` was a deleted model's, check ctx may take it and remove its tombstone; what
    was removed, for the activity (None when the name was never deleted)."""
    tombstone = ModelTombstone.objects.select_for_update().filter(name=name).first()
    if tombstone is None:
        return None
    policies.require_may_take_deleted_name(ctx, tombstone)
    tombstone.delete()
    return {"uid": tombstone.uid, "deleted_at": to_millis(tombstone.deleted_at)}


def _touch(*objects):
    now = timezone.now()
    for obj in objects:
        obj.updated_at = now
        obj.save(update_fields=["updated_at"])


def model_create(ctx, *, name, description="", tags=None):
    """Create a registered model. Names are unique (a duplicate is RESOURCE_ALREADY_EXISTS)."""
    validators.model_name(name)
    description = validators.description(description)
    tag_map = validators.tags(tags)
    with transaction.atomic():
        policies.require_create_model(ctx)
        if RegisteredModel.objects.filter(name=name).exists():
            raise ResourceAlreadyExists(f"Registered Model (name={name}) already exists.")
        tombstone = _take_deleted_name(ctx, name)
        try:
            with transaction.atomic():
                model = RegisteredModel.objects.create(
                    name=name, description=description, created_by=ctx.user
                )
        except IntegrityError:
            # Lost a race with a concurrent create of the same name.
            raise ResourceAlreadyExists(f"Registered Model (name={name}) already exists.") from None
        tag_rows = RegisteredModelTag.objects.bulk_create(
            RegisteredModelTag(model=model, key=k, value=v) for k, v in tag_map.items()
        )
        # Returned as the rendering selectors load it: rendered without reading it back.
        selectors.as_loaded(model, tags=tag_rows)
        if ctx.user is not None:
            # The creator manages what they create (Databricks and MLflow auth agree).
            permissions.grant_to_creator(ctx.user, model)
        record(
            ctx, event=events.MODEL_CREATED, model=model,
            before=None if tombstone is None else {"tombstone": tombstone},
            after={
                "name": name, "description": model.description, "tags": tag_map,
                "owner": getattr(ctx.user, "username", None),
            },
        )
    return model


def model_update(ctx, *, name, description):
    """Change a registered model's description."""
    description = validators.description(description)
    with transaction.atomic():
        model = _lock_model(name)
        policies.require_level(ctx, model, Level.CAN_EDIT, "updating the description")
        before = model.description
        model.description = description
        model.updated_at = timezone.now()
        model.save(update_fields=["description", "updated_at"])
        record(
            ctx, event=events.MODEL_UPDATED, model=model,
            before={"description": before}, after={"description": model.description},
        )
    return model


def model_rename(ctx, *, name, new_name):
    """Rename a registered model; its versions, tags and aliases stay with it. The old name is
    kept as a tombstone, as for a deleted model: clients that still load it must not get
    someone else's model."""
    validators.model_name(new_name)
    with transaction.atomic():
        model = _lock_model(name)
        policies.require_level(ctx, model, Level.CAN_MANAGE, "renaming")
        if new_name != name and RegisteredModel.objects.filter(name=new_name).exists():
            raise ResourceAlreadyExists(f"Registered Model (name={new_name}) already exists.")
        tombstone = _take_deleted_name(ctx, new_name) if new_name != name else None
        if new_name != name:
            _keep_name(model, name)
        model.name = new_name
        model.updated_at = timezone.now()
        try:
            with transaction.atomic():
                model.save(update_fields=["name", "updated_at"])
        except IntegrityError:
            raise ResourceAlreadyExists(
                f"Registered Model (name={new_name}) already exists."
            ) from None
        record(
            ctx, event=events.MODEL_RENAMED, model=model,
            before={"name": name, **({"tombstone": tombstone} if tombstone else {})},
            after={"name": new_name},
        )
    return model


def _keep_name(model, name):
    """Reserve a name the model leaves (deleted, or renamed away) for its current managers:
    consumers may still load `models:/<name>@champion`, so nobody else may take it."""
    users, teams = permissions.managers(model)
    tombstone, _ = ModelTombstone.objects.update_or_create(
        name=name, defaults={"uid": model.uid, "deleted_at": timezone.now()}
    )
    tombstone.managers.set(users)
    tombstone.manager_teams.set(teams)


def model_delete(ctx, *, name):
    """Delete a registered model with all its versions, tags and aliases. A new model of that
    name starts at version 1 (MLflow semantics), but only its managers (as they are now) or a
    registry admin may create it: the name is kept as a tombstone."""
    with transaction.atomic():
        model = _lock_model(name)
        policies.require_level(ctx, model, Level.CAN_MANAGE, "deleting")
        versions = list(model.versions.live().values_list("version", flat=True))
        snapshot = {"name": model.name, "uid": model.uid, "versions": versions}
        _keep_name(model, model.name)
        record(ctx, event=events.MODEL_DELETED, model=model, before=snapshot)
        # Object grants hang off a generic key, so they do not cascade by themselves.
        permissions.forget_model(model)
        model.delete()


def model_tag_set(ctx, *, name, key, value):
    """Set (or overwrite) a tag on a registered model."""
    validators.tag_key(key)
    value = validators.tag_value(value)
    with transaction.atomic():
        model = _lock_model(name)
        policies.require_level(ctx, model, Level.CAN_EDIT, "setting a tag")
        tag = model.tags.filter(key=key).first()
        before = None if tag is None else tag.value
        RegisteredModelTag.objects.update_or_create(model=model, key=key, defaults={"value": value})
        _touch(model)
        record(
            ctx, event=events.MODEL_TAG_SET, model=model, target=key,
            before=None if before is None else {"key": key, "value": before},
            after={"key": key, "value": value},
        )


def model_tag_delete(ctx, *, name, key):
    """Delete a tag from a registered model. Deleting a missing tag changes nothing."""
    with transaction.atomic():
        model = _lock_model(name)
        policies.require_level(ctx, model, Level.CAN_EDIT, "deleting a tag")
        tag = model.tags.filter(key=key).first()
        if tag is None:
            return
        tag.delete()
        _touch(model)
        record(
            ctx, event=events.MODEL_TAG_DELETED, model=model, target=key,
            before={"key": key, "value": tag.value},
        )


def version_create(
    ctx, *, name, source, run_id="", run_link="", description="", tags=None, model_id=""
):
    """Register a new version. Numbers come from the model's counter under its row lock, so
    they are gapless under concurrency and never reused after deletion."""
    source, run_id, model_id = validators.source(source, run_id=run_id or "", model_id=model_id or "")
    run_link = validators.run_link(run_link)
    description = validators.description(description)
    tag_map = validators.tags(tags)
    # The run is looked up after commit (version_lineage_record): registering never waits for,
    # or fails because of, the tracking server.
    resolving = tracking.configured() and bool(run_id or model_id)
    with transaction.atomic():
        model = _lock_model(name)
        policies.require_level(ctx, model, Level.CAN_EDIT, "adding a version")
        storage_location = _resolve_registry_source(ctx, source)
        number = model.next_version
        model.next_version = number + 1
        model.updated_at = timezone.now()
        model.save(update_fields=["next_version", "updated_at"])
        version = ModelVersion.objects.create(
            model=model,
            version=number,
            source=source,
            run_id=run_id,
            run_link=run_link,
            logged_model_id=model_id,
            storage_location=storage_location,
            description=description,
            created_by=ctx.user,
            lineage_status=LINEAGE_RESOLVING if resolving else LINEAGE_NONE,
        )
        tag_rows = ModelVersionTag.objects.bulk_create(
            ModelVersionTag(version=version, key=k, value=v) for k, v in tag_map.items()
        )
        selectors.as_loaded(version, tags=tag_rows)  # as for a model, above
        record(
            ctx, event=events.VERSION_CREATED, version=version,
            after={
                "version": number, "source": source, "run_id": run_id, "model_id": model_id,
                "description": version.description, "tags": tag_map,
            },
        )
        if resolving:
            lineage.resolve_after_commit(version.pk)
    return version


def _resolve_registry_source(ctx, source):
    """Where a `models:/<name>/<version|stage|latest>` or `models:/<name>@<alias>` source's
    artifacts are: the named version's own location. "" for other sources."""
    reference = validators.registry_reference(source)
    if reference is None:
        return ""
    name, ref, alias = reference
    origin = RegisteredModel.objects.filter(name=name).first()
    if origin is None or not policies.can_read(ctx.user, origin):
        raise model_not_found(name)
    versions = origin.versions.live().order_by("-version")
    if alias:
        found = versions.filter(aliases__alias=alias).first()
    elif ref.isdigit():
        found = versions.filter(version=int(ref)).first()
    elif ref.lower() == "latest":
        found = versions.first()
    else:
        found = versions.filter(current_stage=validators.stage(ref)).first()
    if found is None:
        raise ResourceDoesNotExist(f"Model version for source '{source}' not found")
    return found.storage_location or found.source


def version_lineage_record(ctx, *, version_id, run_id="", experiment_id="", run_link="", reason=""):
    """The system records what the tracking server said about a resolving version: its run
    (run_id, run_link unless the client sent one) and experiment, or, with `reason`, why its
    lineage is unavailable. A version no longer resolving (done already, deleted) is left as
    it is: None."""
    if ctx.user is not None:
        raise PermissionDenied("Permission denied: only the system records a version's lineage.")
    found = ModelVersion.objects.filter(pk=version_id).values_list("model_id", flat=True).first()
    if found is None:
        raise ResourceDoesNotExist(f"Model version with id {version_id} not found")
    with transaction.atomic():
        RegisteredModel.objects.select_for_update().filter(pk=found).first()
        mv = ModelVersion.objects.live().select_related("model").filter(pk=version_id).first()
        if mv is None or mv.lineage_status != LINEAGE_RESOLVING:
            return None
        before = {"run_id": mv.run_id, "run_link": mv.run_link}
        if reason:
            mv.lineage_status, mv.lineage_reason = LINEAGE_UNAVAILABLE, reason
            event, after = events.VERSION_LINEAGE_UNAVAILABLE, {"reason": reason}
        else:
            mv.lineage_status, mv.lineage_reason = LINEAGE_RESOLVED, ""
            mv.run_id, mv.experiment_id = run_id, experiment_id
            mv.run_link = mv.run_link or validators.run_link(run_link)
            event = events.VERSION_LINEAGE_RESOLVED
            after = {"run_id": mv.run_id, "run_link": mv.run_link, "experiment_id": experiment_id,
                     "model_id": mv.logged_model_id}
        mv.updated_at = timezone.now()
        mv.save(update_fields=["lineage_status", "lineage_reason", "run_id", "experiment_id",
                               "run_link", "updated_at"])
        record(ctx, event=event, version=mv, before=before, after=after)
    return mv


def version_update(ctx, *, name, version, description):
    """Change a version's description."""
    description = validators.description(description)
    with transaction.atomic():
        model = _lock_model(name)
        policies.require_level(ctx, model, Level.CAN_EDIT, "updating a version's description")
        mv = _live_version(model, version)
        before = mv.description
        mv.description = description
        mv.updated_at = timezone.now()
        mv.save(update_fields=["description", "updated_at"])
        record(
            ctx, event=events.VERSION_UPDATED, version=mv,
            before={"description": before}, after={"description": mv.description},
        )
    return mv


def version_delete(ctx, *, name, version):
    """Delete a version softly: its number stays taken, it leaves every read, and the aliases
    that pointed at it are removed."""
    with transaction.atomic():
        model = _lock_model(name)
        policies.require_level(ctx, model, Level.CAN_MANAGE, "deleting a version")
        mv = _live_version(model, version)
        aliases = list(mv.aliases.values_list("alias", flat=True))
        mv.aliases.all().delete()
        now = timezone.now()
        mv.deleted_at = mv.updated_at = now
        mv.save(update_fields=["deleted_at", "updated_at"])
        _touch(model)
        record(
            ctx, event=events.VERSION_DELETED, version=mv,
            before={"stage": mv.current_stage, "aliases": aliases, "source": mv.source},
        )


def version_tag_set(ctx, *, name, version, key, value):
    """Set (or overwrite) a tag on a version."""
    validators.tag_key(key)
    value = validators.tag_value(value)
    with transaction.atomic():
        model = _lock_model(name)
        policies.require_level(ctx, model, Level.CAN_EDIT, "setting a version tag")
        mv = _live_version(model, version)
        tag = mv.tags.filter(key=key).first()
        before = None if tag is None else tag.value
        ModelVersionTag.objects.update_or_create(version=mv, key=key, defaults={"value": value})
        _touch(mv)
        record(
            ctx, event=events.VERSION_TAG_SET, version=mv, target=key,
            before=None if before is None else {"key": key, "value": before},
            after={"key": key, "value": value},
        )


def version_tag_delete(ctx, *, name, version, key):
    """Delete a tag from a version. Deleting a missing tag changes nothing."""
    with transaction.atomic():
        model = _lock_model(name)
        policies.require_level(ctx, model, Level.CAN_EDIT, "deleting a version tag")
        mv = _live_version(model, version)
        tag = mv.tags.filter(key=key).first()
        if tag is None:
            return
        tag.delete()
        _touch(mv)
        record(
            ctx, event=events.VERSION_TAG_DELETED, version=mv, target=key,
            before={"key": key, "value": tag.value},
        )


def version_transition(ctx, *, name, version, stage, archive_existing_versions=False, comment=""):
    """Move a version to a stage. With archive_existing_versions (Staging/Production only),
    every other version in that stage moves to Archived in the same transaction, so the
    stage never holds zero or two versions in between. Needs the stage level, and whatever
    the stage policies add (workflows may require an approved request instead)."""
    stage = validators.stage(stage)
    archive = validators.archive_flag(stage, archive_existing_versions)
    comment = validators.comment(comment)
    with transaction.atomic():
        model = _lock_model(name)
        policies.require_read(ctx, model)
        mv = _live_version(model, version)
        from_stage = mv.current_stage
        policies.require_transition(ctx, model, mv, from_stage, stage)
        stages.hold(stage)
        archived = transitions.move_to_stage(model, mv, stage, archive_existing=archive)
        record(
            ctx, event=events.VERSION_STAGE_TRANSITIONED, version=mv, comment=comment,
            before={"stage": from_stage},
            after={"stage": stage, "archived_versions": archived},
        )
    return mv


def alias_set(ctx, *, name, alias, version):
    """Point an alias at a version; setting an existing alias moves it. Needs CAN_EDIT, and
    for a protected alias what its policy requires."""
    validators.alias_name(alias)
    with transaction.atomic():
        model = _lock_model(name)
        policies.require_level(ctx, model, Level.CAN_EDIT, "setting an alias")
        mv = _live_version(model, version)
        policies.require_alias_change(ctx, model, alias)
        before_version = transitions.point_alias(model, mv, alias)
        record(
            ctx, event=events.ALIAS_CREATED if before_version is None else events.ALIAS_MOVED,
            version=mv, target=alias,
            before=None if before_version is None else {"alias": alias, "version": before_version},
            after={"alias": alias, "version": mv.version},
        )


def alias_delete(ctx, *, name, alias):
    """Remove an alias. Removing a missing alias changes nothing."""
    with transaction.atomic():
        model = _lock_model(name)
        policies.require_level(ctx, model, Level.CAN_EDIT, "deleting an alias")
        existing = model.aliases.select_related("version").filter(alias=alias).first()
        if existing is None:
            return
        policies.require_alias_change(ctx, model, alias)
        existing.delete()
        _touch(model)
        record(
            ctx, event=events.ALIAS_DELETED, version=existing.version, target=alias,
            before={"alias": alias, "version": existing.version.version},
        )


def model_permissions_change(ctx, *, uid, access_control_list, replace):
    """Grant levels on one model, named by its id (PUT replaces all direct grants, PATCH
    merges). Needs CAN_MANAGE on the model."""
    with transaction.atomic():
        model = RegisteredModel.objects.select_for_update().filter(uid=uid).first()
        if model is None or not policies.can_read(ctx.user, model):
            # Addressed by id: a caller who cannot read the model must not learn its name
            # (require_level's not-found error would carry it).
            raise ResourceDoesNotExist(f"Registered model with id {uid} not found")
        policies.require_level(ctx, model, Level.CAN_MANAGE, "changing permissions")
        new_grants = permissions.parse_acl(access_control_list, root=False)
        before = permissions.acl_snapshot(permissions.model_grants(model))
        permissions.apply_model_grants(model, new_grants, replace=replace)
        after = permissions.acl_snapshot(permissions.model_grants(model))
        record(
            ctx, event=events.MODEL_PERMISSIONS_CHANGED, model=model,
            target="replace" if replace else "update",
            before={"access_control_list": before}, after={"access_control_list": after},
        )
    return model


def registry_permissions_change(ctx, *, access_control_list, replace):
    """Registry-wide grants (root): levels on every model, and the right to create models.
    Only registry admins (superusers) may change them."""
    with transaction.atomic():
        policies.require_registry_admin(ctx, "changing registry-wide permissions")
        new_grants = permissions.parse_acl(access_control_list, root=True)
        permissions.lock_root()
        before = permissions.acl_snapshot(permissions.root_grants())
        permissions.apply_root_grants(new_grants, replace=replace)
        after = permissions.acl_snapshot(permissions.root_grants())
        record(
            ctx, event=events.REGISTRY_PERMISSIONS_CHANGED,
            target="replace" if replace else "update",
            before={"access_control_list": before}, after={"access_control_list": after},
        )


# The lifecycle ----------------------------------------------------------------------------------

def stage_create(ctx, *, name, required_level, active=False, position=None):
    """Add a stage to the lifecycle (registry/stages.py). Registry admins only."""
    with transaction.atomic():
        policies.require_registry_admin(ctx, "defining stages")
        name = validators.stage_name(name)
        level = validators.stage_level(required_level)
        if not isinstance(active, bool):
            raise InvalidParameterValue(f"Invalid active '{active}': must be true or false.")
        existing = stages.find(name)
        if existing is not None:
            raise ResourceAlreadyExists(f"Stage '{existing.name}' already exists.")
        try:
            with transaction.atomic():
                row = Stage.objects.create(
                    name=name, position=validators.stage_position(position), required_level=level.name,
                    active=active, created_by=ctx.user,
                )
        except IntegrityError:  # the same name defined at the same moment
            raise ResourceAlreadyExists(f"Stage '{name}' already exists.") from None
        record(ctx, event=events.STAGE_CREATED, target=row.name, after=stages.from_row(row).as_json())
    return stages.from_row(row)


def stage_delete(ctx, *, name):
    """Remove a custom stage nothing uses: no live version is in it, and nothing the other
    apps keep names it (workflows: pending requests, policies). Built-ins stay."""
    with transaction.atomic():
        policies.require_registry_admin(ctx, "deleting stages")
        found = stages.find(name)
        if found is None:
            raise ResourceDoesNotExist(
                f"Stage '{name}' does not exist. Defined stages: {', '.join(stages.names())}."
            )
        if found.builtin:
            raise InvalidParameterValue(f"'{found.name}' is a built-in stage: built-in stages cannot be deleted.")
        row = Stage.objects.select_for_update().get(name=found.name)
        in_it = ModelVersion.objects.live().filter(current_stage=row.name).count()
        policies.require_stage_unused(ctx, row.name, in_it)
        before = stages.from_row(row).as_json()
        row.delete()
        record(ctx, event=events.STAGE_DELETED, target=found.name, before=before)

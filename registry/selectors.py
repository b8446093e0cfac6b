"""Every read of the registry. Each takes the viewer first and returns only what the viewer
may read (a model they cannot read is answered as missing), with what rendering needs
prefetched, so a page of results costs a fixed number of queries whatever its size."""

from django.db.models import OuterRef, Prefetch, Subquery

from accounts import policies as access
from accounts.models import User
from audit.errors import InvalidParameterValue, ResourceDoesNotExist, model_not_found, version_not_found

from . import lineage, permissions, policies, search, validators
from . import stages as lifecycle
from .models import STAGE_PRODUCTION, ModelVersion, RegisteredModel, RegisteredModelAlias, Stage

MAX_MODEL_RESULTS = 1000
DEFAULT_MODEL_RESULTS = 100
MAX_VERSION_RESULTS = 200_000
DEFAULT_VERSION_RESULTS = 10_000
# The alias whose version a candidate is compared with (else the newest Production version).
BASELINE_ALIAS = "champion"


def _newest_in_its_stage():
    """The number of the newest live version in the outer version's model and stage: the
    outer version is the latest of its stage when it has that number. One index probe a
    version ((model, current_stage, version)); asked as NOT EXISTS a newer one, PostgreSQL
    compared every version of a stage with every other (1.8 s for a model with 7,000)."""
    return Subquery(
        ModelVersion.objects.live().filter(model=OuterRef("model"), current_stage=OuterRef("current_stage"))
        .order_by("-version").values("version")[:1]
    )


def _outside_latest_default():
    """A subquery of the stages get-latest-versions leaves out unless named: the inactive
    custom ones (registry/stages.py). A subquery, so a page of models costs no extra query."""
    return Stage.objects.filter(active=False).values("name")


def _latest_per_stage():
    return (
        ModelVersion.objects.live().filter(version=_newest_in_its_stage())
        .exclude(current_stage__in=_outside_latest_default()).select_related("created_by")
        .prefetch_related(Prefetch("tags", to_attr="tag_rows")).order_by("version")
    )


# Rendering selectors load tags and aliases into plain lists (Prefetch to_attr): prefetching
# into the related managers costs Django a queryset per object and relation, which was most of
# a search's time. Read them with loaded().
_LOADED = {"tags": "tag_rows", "aliases": "alias_rows"}


def loaded(obj, relation):
    """`obj`'s tags or aliases as a rendering selector loaded them, or read now for an object
    loaded some other way."""
    rows = getattr(obj, _LOADED[relation], None)
    return rows if rows is not None else list(getattr(obj, relation).all())


def as_loaded(obj, *, tags, aliases=()):
    """Give an object just written the lists loaded() reads, so it renders without being
    read back (tags in the order the selectors load them)."""
    obj.tag_rows, obj.alias_rows = sorted(tags, key=lambda tag: tag.key), list(aliases)
    return obj


def _models_for_rendering():
    return RegisteredModel.objects.select_related("created_by").prefetch_related(
        Prefetch("tags", to_attr="tag_rows"),
        Prefetch("aliases", queryset=RegisteredModelAlias.objects.select_related("version"), to_attr="alias_rows"),
        Prefetch("versions", queryset=_latest_per_stage(), to_attr="latest_versions"),
    )


def _versions_for_rendering():
    return ModelVersion.objects.live().select_related("model", "created_by").prefetch_related(
        Prefetch("tags", to_attr="tag_rows"),
        Prefetch("aliases", queryset=RegisteredModelAlias.objects.order_by("alias"), to_attr="alias_rows"),
    )


def model_get(viewer, name):
    model = _models_for_rendering().filter(name=name).first()
    if model is None or not policies.can_read(viewer, model):
        raise model_not_found(name)
    return model


def model_by_uid(viewer, uid):
    model = _models_for_rendering().filter(uid=uid).first()
    if model is None or not policies.can_read(viewer, model):
        raise ResourceDoesNotExist(f"Registered model with id {uid} not found")
    return model


def _readable_model(viewer, name):
    model = RegisteredModel.objects.filter(name=name).first()
    if model is None or not policies.can_read(viewer, model):
        raise model_not_found(name)
    return model


def version_get(viewer, name, version):
    number = validators.version_number(version)
    mv = _versions_for_rendering().filter(model__name=name, version=number).first()
    if mv is None:
        _readable_model(viewer, name)
        raise version_not_found(name, version)
    if not policies.can_read(viewer, mv.model):
        raise model_not_found(name)
    return mv


def version_by_alias(viewer, name, alias):
    """The hot path of inference services: one indexed query plus the version's tags and
    aliases."""
    row = (
        RegisteredModelAlias.objects.filter(model__name=name, alias=alias)
        .select_related("version__model", "version__created_by")
        .prefetch_related(
            "version__tags",
            Prefetch("version__aliases", queryset=RegisteredModelAlias.objects.order_by("alias")),
        )
        .first()
    )
    if row is None:
        _readable_model(viewer, name)
        raise InvalidParameterValue(f"Registered model alias {alias} not found.")
    if not policies.can_read(viewer, row.version.model):
        raise model_not_found(name)
    return row.version


def latest_versions(viewer, name, stages=None):
    """The newest live version in each requested stage; when none are given, in each built-in
    and each active custom stage."""
    _readable_model(viewer, name)
    wanted = {validators.stage(s) for s in stages or []}
    qs = _versions_for_rendering().filter(model__name=name, version=_newest_in_its_stage())
    if wanted:
        qs = qs.filter(current_stage__in=wanted)
    else:
        qs = qs.exclude(current_stage__in=_outside_latest_default())
    return list(qs.order_by("version"))


def page(queryset, max_results, page_token, limit):
    """One page of `queryset` (or a list) and the opaque token of the next, if any."""
    if max_results < 1 or max_results > limit:
        raise InvalidParameterValue(
            f"Invalid value for max_results: it must be between 1 and {limit}, got {max_results}."
        )
    offset = search.decode_page_token(page_token)
    rows = list(queryset[offset: offset + max_results + 1])
    next_token = search.encode_page_token(offset + max_results) if len(rows) > max_results else ""
    return rows[:max_results], next_token


def _models_found(viewer, queryset, filter_string, order_by):
    qs = access.readable(viewer, queryset).filter(search.model_filter(filter_string))
    return qs.order_by(*search.model_ordering(order_by))


def models_search(viewer, *, filter_string="", max_results=DEFAULT_MODEL_RESULTS, order_by=None, page_token=""):
    qs = _models_found(viewer, _models_for_rendering(), filter_string, order_by)
    return page(qs, max_results, page_token, MAX_MODEL_RESULTS)


def models_search_ids(viewer, *, filter_string="", max_results=DEFAULT_MODEL_RESULTS, order_by=None, page_token=""):
    """The page models_search gives, as the models' ids in order: for a renderer that loads
    the rest itself (registry/api/render_sql.py)."""
    qs = _models_found(viewer, RegisteredModel.objects.all(), filter_string, order_by)
    return page(qs.values_list("id", flat=True), max_results, page_token, MAX_MODEL_RESULTS)


def versions_search(viewer, *, filter_string="", max_results=DEFAULT_VERSION_RESULTS, order_by=None, page_token=""):
    qs = _versions_for_rendering().filter(search.version_filter(filter_string))
    if not access.reads_everything(viewer):
        qs = qs.filter(model__in=access.readable(viewer, RegisteredModel.objects.all()))
    qs = qs.order_by(*search.version_ordering(order_by))
    return page(qs, max_results, page_token, MAX_VERSION_RESULTS)


def download_uri(viewer, name, version):
    """The source verbatim (the client resolves s3://, runs:/, models:/m-..., ...), or for a
    copy of another registered version, that version's location frozen at creation."""
    mv = version_get(viewer, name, version)
    return mv.storage_location or mv.source


def model_versions(viewer, name):
    """A model's live versions, newest first (its page in the UI)."""
    model = _readable_model(viewer, name)
    return list(_versions_for_rendering().filter(model=model).order_by("-version"))


def model_access(viewer, name):
    """Who holds which level on a model: its direct grants, the registry-wide ones, and for
    every account they reach (grantees, their teams' members, registry admins) its effective
    level and where it comes from. Readers see as much through the Databricks permissions API."""
    model = _readable_model(viewer, name)
    direct = permissions.model_grants(model)
    registry_wide = permissions.root_grants()
    reached, through = {}, {}
    for grants, where in ((direct, "this model"), (registry_wide, "registry-wide")):
        for grant in grants:
            if isinstance(grant.principal, User):
                members, source = [grant.principal], where
            else:
                members, source = grant.principal.user_set.all(), f"team {grant.principal.name}, {where}"
            for user in members:
                reached[user.pk] = user
                through.setdefault(user.pk, []).append(f"{grant.level} ({source})")
    for user in User.objects.filter(is_superuser=True):
        reached[user.pk] = user
        through.setdefault(user.pk, []).append("registry admin")
    effective = sorted(
        ({"user": user, "level": access.effective_level(user, model), "through": through[user.pk]}
         for user in reached.values() if user.is_active),
        key=lambda row: (-row["level"], row["user"].username),
    )
    return {
        "model": model, "direct": direct, "registry_wide": registry_wide,
        "effective": effective, "default_level": access.default_level(),
    }


def version_lineage(viewer, name, version):
    """The version's lineage (lineage.of): the run that built it, its experiment, latest metrics,
    params and dataset inputs, as far as the tracking server tells."""
    return lineage.of(version_get(viewer, name, version))


def baseline_version(viewer, mv):
    """The version a candidate is judged against: the one `champion` points at, else the newest
    Production version; with what it is ("@champion", "Production"). (None, "") when there is
    none or it is the candidate itself."""
    if not policies.can_read(viewer, mv.model):
        raise model_not_found(mv.model.name)
    live = _versions_for_rendering().filter(model_id=mv.model_id)
    champion = live.filter(aliases__alias=BASELINE_ALIAS).first()
    if champion is not None:
        found, label = champion, f"@{BASELINE_ALIAS}"
    else:
        found, label = live.filter(current_stage=STAGE_PRODUCTION).order_by("-version").first(), STAGE_PRODUCTION
    if found is None or found.pk == mv.pk:
        return None, ""
    return found, label


def stage_list(viewer):
    """The lifecycle, built-ins and custom stages in order: anyone signed in may read it."""
    return lifecycle.lifecycle()

"""Lineage on the pages: the run that built a version (its metrics, params, datasets), and its
metrics beside another version's, through the registry's selectors as the signed-in reader, so
views need no change. `{% load lineage %}` then `{% version_lineage mv %}`,
`{% lineage_compare left right %}`, `{% metric_deltas mv %}` (dt/dd pairs in a request's facts)
or `{% metric_deltas_inline mv %}` (a line in a table cell)."""

from django import template

from registry import lineage, selectors

register = template.Library()

# How many metrics a request or a row of the reviews list shows beside the baseline's.
KEY_METRICS = 4


def _number(value):
    return "—" if value is None else f"{value:.6g}"


def _delta(value):
    return "" if value is None else f"{value:+.4g}"


def _rows(candidate, baseline):
    return [
        {**row, "value_text": _number(row["value"]), "baseline_text": _number(row["baseline"]),
         "delta_text": _delta(row["delta"])}
        for row in lineage.metric_deltas(candidate, baseline)
    ]


def _lineage(context, mv):
    return selectors.version_lineage(context["request"].user, mv.model.name, mv.version)


@register.inclusion_tag("ui/_lineage.html", takes_context=True)
def version_lineage(context, mv):
    found = _lineage(context, mv)
    return {"lineage": found, "metrics": _rows(found, {"metrics": []})}


@register.inclusion_tag("ui/_lineage_compare.html", takes_context=True)
def lineage_compare(context, left, right):
    """The two versions' run metrics side by side, with right minus left."""
    a, b = _lineage(context, left), _lineage(context, right)
    return {"left": left, "right": right, "a": a, "b": b, "metrics": _rows(b, a)}


def _against_baseline(context, mv):
    baseline, label = selectors.baseline_version(context["request"].user, mv)
    mine = _lineage(context, mv)
    if baseline is None or mine["status"] != "resolved":
        return {"mv": mv, "mine": mine, "baseline": baseline, "label": label, "metrics": []}
    theirs = _lineage(context, baseline)
    shared = [row for row in _rows(mine, theirs) if row["delta"] is not None]
    return {"mv": mv, "mine": mine, "baseline": baseline, "label": label, "metrics": shared[:KEY_METRICS],
            "more": max(len(shared) - KEY_METRICS, 0)}


@register.inclusion_tag("ui/_metric_deltas.html", takes_context=True)
def metric_deltas(context, mv):
    return _against_baseline(context, mv)


@register.inclusion_tag("ui/_metric_deltas_inline.html", takes_context=True)
def metric_deltas_inline(context, mv):
    return _against_baseline(context, mv)

"""Where signed checkpoints of the activity log live besides the database: a JSON Lines file
(MODELGATE_ACTIVITY_CHECKPOINT_FILE) and, optionally, a URL each checkpoint is POSTed to
(MODELGATE_ACTIVITY_CHECKPOINT_URL, e.g. a log collector or object store the database's
administrators cannot rewrite). verify_activity reads them back."""

import json
import logging
from pathlib import Path

import requests
from django.conf import settings

logger = logging.getLogger(__name__)


def publish(checkpoint):
    """Write one checkpoint outside the database. A failure is logged, never raised: the
    checkpoint is in the database, and the next one covers this one's rows too."""
    line = json.dumps(checkpoint, sort_keys=True)
    path = settings.MODELGATE_ACTIVITY_CHECKPOINT_FILE
    if path:
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError:
            logger.exception("Could not append activity checkpoint #%s to %s", checkpoint["seq"], path)
    url = settings.MODELGATE_ACTIVITY_CHECKPOINT_URL
    if url:
        try:
            requests.post(url, data=line, headers={"Content-Type": "application/json"}, timeout=5).raise_for_status()
        except requests.RequestException:
            logger.exception("Could not send activity checkpoint #%s to %s", checkpoint["seq"], url)


def read_file(path):
    """The checkpoints in a JSON Lines file; a line that is not a checkpoint raises ValueError."""
    found = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                checkpoint = json.loads(line)
                checkpoint["seq"] = int(checkpoint["seq"])
            except (ValueError, KeyError, TypeError):
                raise ValueError(f"{path}, line {number}: not a checkpoint") from None
            found.append(checkpoint)
    return found

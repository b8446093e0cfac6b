"""The action contract (docs/ARCHITECTURE.md, "The one write path"), checked the same way for
every app's actions.py:

- every public function of the module is an action with a case;
- a successful call writes exactly one activity, with its event, actor and channel, keeps
  the hash chain intact, and hands the activity to the webhook outbox (one delivery to the
  registry-wide webhook each app's `world` subscribes to every event);
- a call that fails, refused by validation or policy, or unable to hand its activity on,
  leaves no domain, activity or delivery row behind.

Each app's test_action_contract.py lists its CASES and a `world` fixture, and calls these.
"""

import inspect
from dataclasses import dataclass
from typing import Callable

import pytest

from audit.activity import verify_chain
from audit.errors import RegistryError
from audit.models import Activity
from tests.conftest import SubscriberDown, last_seq
from webhooks.models import Delivery


@dataclass(frozen=True)
class Case:
    action: str
    event: str
    call: Callable  # (ctx, world) -> the action, succeeding on the app's `world`
    refused: Callable | None  # (ctx, world) -> the same action refused with a RegistryError;
    # None for an action only the system takes, whose input no caller supplies
    actor: str = "owner"  # a name the app's `ctx_of` knows ("system" for the system itself)
    # The action talks to the outside before it records (a webhook test is sent with no lock
    # held): when recording fails, what must not survive is the record, not the attempt.
    sends_before_recording: bool = False

    def __str__(self):
        return f"{self.action}:{self.event.rsplit('.', 1)[-1]}"


def public_functions(module):
    return {
        name
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__ and not name.startswith("_")
    }


def assert_every_public_function_has_a_case(module, cases):
    assert public_functions(module) == {case.action for case in cases}


def assert_writes_exactly_one_activity(case, ctx, world):
    seq = last_seq()

    case.call(ctx, world)

    (activity,) = Activity.objects.filter(seq__gt=seq)
    assert activity.event == case.event
    assert activity.seq == seq + 1
    assert (activity.actor, activity.via) == (ctx.username, ctx.via)
    assert verify_chain().ok
    assert Delivery.objects.filter(activity_seq=activity.seq).count() == 1


def assert_failure_changes_nothing(case, ctx, world, failing_subscriber, snapshot):
    before, seq = snapshot(), last_seq()

    if case.refused is not None:
        with pytest.raises(RegistryError):
            case.refused(ctx, world)
        assert failing_subscriber == []
        assert snapshot() == before

    # Valid, but record()'s subscriber fails after the domain rows were written.
    with pytest.raises(SubscriberDown):
        case.call(ctx, world)
    assert failing_subscriber == [case.event]
    if case.sends_before_recording:
        assert last_seq() == seq
    else:
        assert snapshot() == before

"""Stored topics are forever: every event, aggregate and snapshot topic is pinned here.

Renaming or moving a class must never orphan stored events. If one of these tests fails
because a class moved, keep its old topic string (or ``register_topic`` it); if it fails
because a class is new, add its topic to ``PINNED`` below.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator

import pytest
from eventsourcing.utils import get_topic, resolve_topic

import dialogue_engine.domain
from dialogue_engine.domain.channels import Channel, Provider
from dialogue_engine.domain.dialogue import Dialogue
from dialogue_engine.domain.participants import Participant
from dialogue_engine.domain.project import Project
from dialogue_engine.domain.releases import ReleaseLog
from dialogue_engine.domain.resets import PasswordReset
from dialogue_engine.domain.runs import Run
from dialogue_engine.domain.templates import Template
from dialogue_engine.domain.user import Credential, EmailClaim, User, UserDirectory

PINNED: dict[str, type] = {
    "dialogue_engine:Participant": Participant,
    "dialogue_engine:Participant.Created": Participant.Created,
    "dialogue_engine:Participant.Snapshot": Participant.Snapshot,
    "dialogue_engine:Participant.Changed": Participant.Changed,
    "dialogue_engine:Participant.Deleted": Participant.Deleted,
    "dialogue_engine:Participant.Enrolled": Participant.Enrolled,
    "dialogue_engine:Participant.StatusSet": Participant.StatusSet,
    "dialogue_engine:Participant.Withdrawn": Participant.Withdrawn,
    "dialogue_engine:Run": Run,
    "dialogue_engine:Run.Created": Run.Created,
    "dialogue_engine:Run.Snapshot": Run.Snapshot,
    "dialogue_engine:Run.Stepped": Run.Stepped,
    "dialogue_engine:Dialogue": Dialogue,
    "dialogue_engine:Dialogue.Created": Dialogue.Created,
    "dialogue_engine:Dialogue.Edited": Dialogue.Edited,
    "dialogue_engine:Dialogue.Reverted": Dialogue.Reverted,
    "dialogue_engine:Dialogue.Snapshot": Dialogue.Snapshot,
    "dialogue_engine:Project": Project,
    "dialogue_engine:Project.Created": Project.Created,
    "dialogue_engine:Project.Retitled": Project.Retitled,
    "dialogue_engine:Project.Archived": Project.Archived,
    "dialogue_engine:Project.Unarchived": Project.Unarchived,
    "dialogue_engine:Project.Snapshot": Project.Snapshot,
    "dialogue_engine:ReleaseLog": ReleaseLog,
    "dialogue_engine:ReleaseLog.Created": ReleaseLog.Created,
    "dialogue_engine:ReleaseLog.Released": ReleaseLog.Released,
    "dialogue_engine:ReleaseLog.Snapshot": ReleaseLog.Snapshot,
    "dialogue_engine:Template": Template,
    "dialogue_engine:Template.Created": Template.Created,
    "dialogue_engine:Template.Renamed": Template.Renamed,
    "dialogue_engine:Template.Retagged": Template.Retagged,
    "dialogue_engine:Template.LocaleAdded": Template.LocaleAdded,
    "dialogue_engine:Template.VersionAdded": Template.VersionAdded,
    "dialogue_engine:Template.VersionReplaced": Template.VersionReplaced,
    "dialogue_engine:Template.LocaleDeleted": Template.LocaleDeleted,
    "dialogue_engine:Template.Deleted": Template.Deleted,
    "dialogue_engine:Template.Snapshot": Template.Snapshot,
    "dialogue_engine:User": User,
    "dialogue_engine:User.Created": User.Created,
    "dialogue_engine:User.Granted": User.Granted,
    "dialogue_engine:User.Revoked": User.Revoked,
    "dialogue_engine:User.PasswordChanged": User.PasswordChanged,
    "dialogue_engine:User.Renamed": User.Renamed,
    "dialogue_engine:User.Snapshot": User.Snapshot,
    "dialogue_engine:EmailClaim": EmailClaim,
    "dialogue_engine:EmailClaim.Created": EmailClaim.Created,
    "dialogue_engine:EmailClaim.Snapshot": EmailClaim.Snapshot,
    "dialogue_engine:UserDirectory": UserDirectory,
    "dialogue_engine:UserDirectory.Created": UserDirectory.Created,
    "dialogue_engine:UserDirectory.Snapshot": UserDirectory.Snapshot,
    "dialogue_engine:Credential": Credential,
    "dialogue_engine:Credential.Created": Credential.Created,
    "dialogue_engine:Credential.Revoked": Credential.Revoked,
    "dialogue_engine:Credential.Snapshot": Credential.Snapshot,
    "dialogue_engine:User.PasswordReset": User.PasswordReset,
    "dialogue_engine:PasswordReset": PasswordReset,
    "dialogue_engine:PasswordReset.Created": PasswordReset.Created,
    "dialogue_engine:PasswordReset.Used": PasswordReset.Used,
    "dialogue_engine:PasswordReset.Snapshot": PasswordReset.Snapshot,
    "dialogue_engine:Provider": Provider,
    "dialogue_engine:Provider.Created": Provider.Created,
    "dialogue_engine:Provider.Snapshot": Provider.Snapshot,
    "dialogue_engine:Channel": Channel,
    "dialogue_engine:Channel.Created": Channel.Created,
    "dialogue_engine:Channel.Assigned": Channel.Assigned,
    "dialogue_engine:Channel.Unassigned": Channel.Unassigned,
    "dialogue_engine:Channel.Snapshot": Channel.Snapshot,
}


@pytest.mark.parametrize("topic", PINNED)
def test_each_pinned_topic_resolves_to_its_class(topic: str) -> None:
    cls = PINNED[topic]
    assert topic == cls.TOPIC
    assert get_topic(cls) == topic
    assert resolve_topic(topic) is cls


def classes_with_topics() -> Iterator[type]:
    """Every class of the domain package that declares its own ``TOPIC``, nested ones too."""
    seen: set[type] = set()

    def walk(namespace: dict[str, object]) -> Iterator[type]:
        for value in namespace.values():
            if not inspect.isclass(value) or value in seen:
                continue
            if not value.__module__.startswith("dialogue_engine."):
                continue
            seen.add(value)
            if "TOPIC" in vars(value):
                yield value
            yield from walk(dict(vars(value)))

    for module in pkgutil.iter_modules(dialogue_engine.domain.__path__):
        imported = importlib.import_module(f"dialogue_engine.domain.{module.name}")
        yield from walk(dict(vars(imported)))


def test_every_class_with_a_topic_in_the_domain_is_pinned() -> None:
    unpinned = {
        cls.TOPIC: f"{cls.__module__}.{cls.__qualname__}"
        for cls in classes_with_topics()
        if PINNED.get(cls.TOPIC) is not cls
    }
    assert unpinned == {}, "add these to PINNED in tests/unit/test_topics.py"


def test_pinned_topics_are_unique_and_short() -> None:
    assert len({cls.TOPIC for cls in PINNED.values()}) == len(PINNED)
    assert all(topic.startswith("dialogue_engine:") for topic in PINNED)
    assert not any("domain" in topic for topic in PINNED)

"""The desk's access rule (router/domain/access.py), role by role."""

from __future__ import annotations

import pytest

from router.domain.access import Viewer, may_open

ME = 7


def viewer(role: str, queues: tuple[str, ...] = ()) -> Viewer:
    return Viewer(user_id=ME, username="someone", role=role, queues=queues)


@pytest.mark.parametrize(
    ("role", "queues", "assigned_to", "handed_to", "allowed", "reason"),
    [
        # Only the assistant ever had it: nobody at the desk reads it, except an admin.
        ("agent", (), None, (), False, "never handed to a person"),
        ("supervisor", (), None, (), False, "never handed to a person"),
        ("admin", (), None, (), True, "admin"),
        # Handed to people: an agent of that queue (or of every queue), a supervisor.
        ("agent", (), None, ("pension",), True, "handed to people in their queue"),
        ("agent", ("pension",), None, ("pension",), True, "handed to people in their queue"),
        ("agent", ("housing",), None, ("pension",), False, "another queue's conversation"),
        (
            "agent",
            ("housing",),
            None,
            ("pension", "housing"),
            True,
            "handed to people in their queue",
        ),
        # A supervisor's queues are their teams' (tests below): another queue is refused.
        ("supervisor", ("housing",), None, ("pension",), False, "another team's conversation"),
        # Assigned to the agent: theirs, whatever the queue.
        ("agent", ("housing",), ME, ("pension",), True, "assigned to them"),
        ("agent", ("housing",), ME + 1, ("pension",), False, "another queue's conversation"),
        # Managers see statistics, not conversations; an integration account neither.
        ("manager", (), None, ("pension",), False, "the role sees statistics, not conversations"),
        ("manager", (), ME, ("pension",), False, "the role sees statistics, not conversations"),
        (
            "integration",
            (),
            None,
            ("pension",),
            False,
            "the role sees statistics, not conversations",
        ),
    ],
)
def test_who_may_open_a_conversation(role, queues, assigned_to, handed_to, allowed, reason):
    access = may_open(viewer(role, queues), assigned_to=assigned_to, handed_to=handed_to)
    assert (access.allowed, access.reason) == (allowed, reason)


@pytest.mark.parametrize(
    ("queues", "team", "assigned_to", "handed_to", "allowed", "reason"),
    [
        # A supervisor in no team supervises the whole desk.
        ((), frozenset(), None, ("pension",), True, "handed to people; supervisor"),
        # In a team: the queues the team serves, and whatever the team's agents hold.
        (("pension",), frozenset({11}), None, ("pension",), True, "handed to people; supervisor"),
        (("pension",), frozenset({11}), 11, ("housing",), True, "handed to people; supervisor"),
        (("pension",), frozenset({11}), 12, ("housing",), False, "another team's conversation"),
        (("pension",), frozenset({11}), None, (), False, "never handed to a person"),
    ],
)
def test_a_supervisor_sees_their_teams_queues_and_agents(
    queues, team, assigned_to, handed_to, allowed, reason
):
    who = Viewer(user_id=ME, username="sue", role="supervisor", queues=queues, team=team)
    access = may_open(who, assigned_to=assigned_to, handed_to=handed_to)
    assert (access.allowed, access.reason) == (allowed, reason)

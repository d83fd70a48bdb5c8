"""Fix Rasa 3.6's costly check of every action server answer (imported by kanal_channel)."""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction


@functools.cache
def _action_result_validator() -> Any:
    """Return a validator for action server answers, built (and its schema checked) once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Validate an action server answer as Rasa does, without re-checking the schema."""
    error = best_match(_action_result_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response "
        "from the Action endpoint is valid."
    )
    raise error


def validate_action_results_once() -> None:
    """Make Rasa stop re-validating its own JSON schema on every custom action.

    Rasa 3.6 calls `jsonschema.validate()` on each action server answer, which first
    checks the (large) events schema against the JSON Schema meta-schema: about 30 ms of
    CPU per custom action here, several times the rest of the turn. The answer itself is
    still validated against the same schema, with the same error.
    """
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]

"""The continuation prompt a block hands to Codex: objective, iteration k of N, what failed, how to finish."""

from __future__ import annotations

from codex_self_iter.prompts.render import TemplateError, load_template
from codex_self_iter.session.contract import Contract

OBJECTIVE_CHARS = 4000
# Read once when the module loads, so building a prompt (inside the pure decision) does no I/O.
TEMPLATE = load_template("session_continue")


def continuation_prompt(
    contract: Contract, iteration: int, claimed: bool, checks_text: str, tampering: tuple[str, ...]
) -> str:
    """The text Codex appends as a <hook_prompt> user message before calling the model again."""
    if claimed:
        situation = "You claimed the objective is complete, but it is not accepted yet.\n\n" + checks_text
    else:
        situation = (
            "You stopped without claiming completion. Keep working on the objective; "
            "do not stop to ask for confirmation."
        )
    if tampering:
        situation += (
            "\n\nProtected tests were changed since the session started; changing or deleting tests does not "
            "count as passing them. Restore them:\n" + "\n".join(f"- {item}" for item in tampering)
        )
    objective = contract.objective.strip()
    if len(objective) > OBJECTIVE_CHARS:
        objective = objective[:OBJECTIVE_CHARS] + " […]"
    variables = {
        "objective": objective,
        "iteration": iteration,
        "max_iterations": contract.max_iterations,
        "situation": situation,
        "checks": "\n".join(f"- `{check.spec().command}`" for check in contract.checks),
        "promise": contract.completion_promise,
        "max_no_change": contract.max_no_change,
    }
    try:
        return TEMPLATE.substitute({key: str(value) for key, value in variables.items()})
    except (KeyError, ValueError) as exc:
        raise TemplateError(f"prompt template session_continue.md: {exc!r} is not provided") from exc

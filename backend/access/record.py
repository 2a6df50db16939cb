"""How the login request's services write to the running case's history."""

from collections.abc import Callable
from typing import Any

# `record(kind, payload)` appends to the case's history in the same transaction (the engine's own chain while
# a step runs); the diagram's script helpers bind it to the running case (scripts.py).
Record = Callable[[str, dict[str, Any]], None]

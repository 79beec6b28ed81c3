"""Load and validate pmo-state/1 files into a StateIndex; graph algorithms on demand."""

from governance_engine.state.index import Edge, Node, StateIndex
from governance_engine.state.load import load_state, load_state_bytes, state_from_dict
from governance_engine.state.schedule import Schedule

__all__ = [
    "Edge",
    "Node",
    "Schedule",
    "StateIndex",
    "load_state",
    "load_state_bytes",
    "state_from_dict",
]

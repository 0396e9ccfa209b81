"""The ACD: agents and their states, seat groups and queues, routing strategies
and the dispatcher that turns events and time into decisions. Pure logic: time
is passed in as seconds on any monotonic clock."""

from call_routing.acd.agents import (
    MISSED_REASON,
    Agent,
    AgentState,
    AgentStatus,
    OfferFailure,
    OfferPolicy,
)
from call_routing.acd.decisions import (
    BACKUP,
    SKILL,
    Abandoned,
    AgentNotReady,
    Answered,
    CallbackDue,
    CallbackGaveUp,
    CallbackRequested,
    Decision,
    Offer,
    RingTimeout,
    WaitTimeout,
    Widened,
    WrapUpEnded,
)
from call_routing.acd.dispatcher import (
    DIVERT_LOAD,
    DIVERT_WAIT,
    Acd,
    CallbackPolicy,
    CallbackState,
)
from call_routing.acd.errors import AcdError, InvalidTransition, QueueFull, TimeWentBack, UnknownId
from call_routing.acd.queues import CallerPriority, CallQueue, QueuedCall, SeatGroup, Strategy
from call_routing.acd.strategies import choose_agent

__all__ = [
    "BACKUP",
    "DIVERT_LOAD",
    "DIVERT_WAIT",
    "MISSED_REASON",
    "SKILL",
    "CallbackDue",
    "CallbackGaveUp",
    "CallbackPolicy",
    "CallbackRequested",
    "CallbackState",
    "Widened",
    "Abandoned",
    "Acd",
    "AcdError",
    "Agent",
    "AgentNotReady",
    "AgentState",
    "AgentStatus",
    "Answered",
    "CallQueue",
    "CallerPriority",
    "Decision",
    "InvalidTransition",
    "Offer",
    "OfferFailure",
    "OfferPolicy",
    "QueueFull",
    "QueuedCall",
    "RingTimeout",
    "SeatGroup",
    "Strategy",
    "TimeWentBack",
    "UnknownId",
    "WaitTimeout",
    "WrapUpEnded",
    "choose_agent",
]

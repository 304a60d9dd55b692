"""The AI Goals Tracker V2 key contract, the default (seed document, "Estructura de Keys en Redis").

It is also the model for a contract of your own: a module that exposes `CONTRACT`, given to
`--contract`. Models are strict, so a number sent as a string is a violation, not a coercion.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from redis_preflight.contract.model import Contract, KeyPattern, TtlPolicy
from redis_preflight.contract.schema import IpAddress


class UserSession(BaseModel):
    """`user_session:{user_id}`"""

    model_config = ConfigDict(strict=True)

    connection_id: str
    current_goal_id: UUID | None
    current_task_id: UUID | None
    mood_score: Annotated[float, Field(ge=0, le=1)]
    last_activity: AwareDatetime


class WsConnection(BaseModel):
    """`ws_connections:{connection_id}`"""

    model_config = ConfigDict(strict=True)

    user_id: UUID
    connected_at: AwareDatetime
    ip: IpAddress


class GoalState(BaseModel):
    """`goal_state:{execution_id}`: LangGraph's state for one goal execution."""

    model_config = ConfigDict(strict=True)

    goal_id: UUID
    user_id: UUID
    current_node: str
    state_data: dict[str, Any]
    history: list[Any]


RateLimitCounter = Annotated[int, Field(strict=True, ge=0)]

CONTRACT = Contract(
    patterns=(
        KeyPattern(
            name="user_session",
            prefix="user_session:",
            value=UserSession,
            ttl=TtlPolicy(max_ttl=timedelta(days=7)),
        ),
        KeyPattern(
            name="ws_connections",
            prefix="ws_connections:",
            value=WsConnection,
            ttl=TtlPolicy(max_ttl=timedelta(hours=24)),
        ),
        KeyPattern(
            name="goal_state",
            prefix="goal_state:",
            value=GoalState,
            ttl=TtlPolicy(required=False),
        ),
        KeyPattern(
            name="blacklist",
            prefix="blacklist:",
            value=Literal[b"1"],
            encoding="raw",
            ttl=TtlPolicy(
                covers_jwt_exp=True,
                why="a blacklist key without TTL is memory that never comes back; one that expires "
                "before its token makes the revoked token valid again",
            ),
            secret_in_name=True,
        ),
        KeyPattern(
            name="rate_limit",
            prefix="rate_limit:",
            value=RateLimitCounter,
            ttl=TtlPolicy(
                max_ttl=timedelta(hours=1),
                why="without a TTL the user stays rate-limited forever",
            ),
        ),
    )
)

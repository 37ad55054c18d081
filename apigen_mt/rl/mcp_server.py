"""An episode served over MCP (`apigen-mt serve`), with the official SDK's server.

Tools: the domain's own (the agent's actions on the episode's sandbox; their schemas are
the domain's, exactly as `eval` shows them to a model) plus

    reset(task_index)   -> the user's first message (a new episode on that task)
    send_message(text)  -> the user's reply (ends with ###STOP### when the user is done)
    verify()            -> {reward, components, done, ended_by}

One server holds one episode at a time: run one server per episode in flight. A tool's
error (unknown task, bad arguments, an episode already over) is an MCP error result with
the message a model would see; the server keeps going.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

from apigen_mt.tools import ERROR_PREFIX

from .episode import Episode
from .signatures import tool_function
from .task_set import TaskSet

CONTROL_TOOLS = ("reset", "send_message", "verify")


def build_server(task_set: TaskSet, episode: Episode) -> MCPServer:
    domain = task_set.env.domain
    clash = sorted(set(CONTROL_TOOLS) & set(domain.tools.names))
    if clash:
        raise ValueError(f"the domain's tools {clash} clash with the episode's control tools")
    server = MCPServer(
        f"apigen-mt-{domain.name}",
        instructions=(
            f"An apigen-mt episode over {len(task_set)} verified {domain.name} tasks. Call "
            "reset(task_index) first; talk to the user with send_message; act with the "
            "domain's tools; verify() scores the episode.\n\nPolicy:\n" + domain.policy
        ),
    )

    async def reset(task_index: int) -> str:
        """Start a new episode on a task; returns the user's first message.

        Args:
            task_index: Which task (0-based, in the task file's or run's order).
        """
        try:
            return await episode.reset(task_index)
        except (IndexError, TypeError, ValueError) as exc:
            raise ToolError(str(exc)) from exc

    async def send_message(text: str) -> str:
        """Say something to the user; returns the user's reply.

        Args:
            text: The agent's message to the user.
        """
        return await _acting(episode.send_message(text))

    async def verify() -> dict[str, Any]:
        """Score the episode: reward 1.0 when the database reached the gold state and
        every expected output was said (τ²'s reward for τ² tasks), with its components."""
        if episode.index is None:
            raise ToolError("no episode: call reset(task_index) first")
        result = await episode.verify()
        return {
            "reward": result.reward,
            "components": result.components,
            "done": episode.done,
            "ended_by": episode.ended_by,
        }

    server.add_tool(reset, annotations=ToolAnnotations(read_only_hint=False))
    server.add_tool(send_message, annotations=ToolAnnotations(read_only_hint=False))
    server.add_tool(verify, annotations=ToolAnnotations(read_only_hint=True))
    for schema in domain.tools.openai_schemas():
        spec = schema["function"]
        writes = domain.tools[spec["name"]].writes
        server.add_tool(
            tool_function(schema, _domain_call(episode), typed=False),
            name=spec["name"],
            description=spec.get("description", ""),
            annotations=ToolAnnotations(read_only_hint=not writes, destructive_hint=writes),
        )
        # the domain's exact schema (nested types, enums), not one read off a signature
        server._tool_manager.get_tool(spec["name"]).parameters = spec["parameters"]
    return server


def _domain_call(episode: Episode):
    def call(name: str, arguments: dict[str, Any]) -> str:
        try:
            observation = episode.call_tool(name, arguments)
        except RuntimeError as exc:  # no episode yet, or one already over
            raise ToolError(str(exc)) from exc
        if observation.startswith(ERROR_PREFIX):
            raise ToolError(observation)
        return observation

    return call


async def _acting(coro) -> str:
    try:
        return await coro
    except RuntimeError as exc:
        coro.close()
        raise ToolError(str(exc)) from exc


def serve(
    task_set: TaskSet,
    episode: Episode,
    *,
    transport: str = "stdio",
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Serve until the client goes away (stdio) or the process is stopped (http)."""
    server = build_server(task_set, episode)
    if transport == "stdio":
        server.run("stdio")
    elif transport == "http":
        server.run("streamable-http", host=host, port=port)
    else:
        raise ValueError(f"transport is stdio or http, not {transport!r}")

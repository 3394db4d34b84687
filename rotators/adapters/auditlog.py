"""Key Vault's audit trail in a Log Analytics workspace: one query per confirmation.

azure-monitor-query's ``LogsQueryClient`` (imported on first use, built once per cloud) sends the
query of :mod:`rotators.core.audit` to ``POST <endpoint>/v1/workspaces/<id>/query`` with the managed
identity's token for the cloud's Log Analytics audience, which needs the Log Analytics Reader role on
the workspace. The service waits at most ``Prefer: wait=<seconds>`` ("Timeouts": default 3 minutes,
504 Gateway Timeout past it); here that is the trigger's time left, and the call itself is bounded
by the deadline like any other. A query is retried once at most: a second try of a query that timed
out rarely fits. A partial answer (``LogsQueryPartialResult``) is used only when its error says no
more than that a table or column did not resolve (:func:`rotators.core.audit.only_unresolved`).
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from rotators.adapters import clients
from rotators.adapters.upstream import calling
from rotators.core import deadline
from rotators.core.audit import ROLE, AuditRead, Question, only_unresolved, query, reads, token_principal
from rotators.core.clouds import Cloud
from rotators.core.errors import TransientError

if TYPE_CHECKING:
    from azure.monitor.query import LogsQueryClient

# The longest the service is asked to work on one query (its own limit is 10 minutes).
MAX_SERVER_SECONDS = 60


@functools.cache
def _client(cloud: Cloud) -> LogsQueryClient:
    from azure.monitor.query import LogsQueryClient

    options = clients.data_plane_options()  # one retry at most
    return LogsQueryClient(clients.credential(), endpoint=cloud.logs_endpoint, audience=cloud.logs_endpoint, **options)


def read_by(workspace: str, cloud: Cloud, question: Question) -> dict[str, AuditRead]:
    """What each principal of ``question`` last read of its secret in its time span, by principal."""
    from azure.monitor.query import LogsQueryStatus

    text = query(question)
    left = deadline.remaining()
    server = MAX_SERVER_SECONDS if left is None else max(1, min(MAX_SERVER_SECONDS, int(left) - 1))
    operation = f"Query the Key Vault audit trail in Log Analytics workspace {workspace}"
    with calling(operation, role=ROLE):
        result: Any = _client(cloud).query_workspace(
            workspace, text, timespan=(question.since, question.until), server_timeout=server
        )
    if result.status == LogsQueryStatus.SUCCESS:
        tables = result.tables
    elif result.status == LogsQueryStatus.PARTIAL and only_unresolved(result.partial_error.details):
        tables = result.partial_data  # a table or column the workspace lacks was left out: the rest is whole
    else:
        tables = None
    if not tables:
        raise TransientError(f"{operation}: the workspace answered in part; the audit trail confirms nothing.")
    table = tables[0]
    try:
        return reads(list(table.columns), table.rows)
    except ValueError:
        raise TransientError(f"{operation}: the answer is not the query's; the audit trail confirms nothing.") from None


def own_principal(cloud: Cloud) -> str:
    """The object ID of the function's own identity, from the ``oid`` of its token for the workspace's audience (the
    credential keeps the token, which the query needs anyway)."""
    with calling("Read the function's own identity from its token", role=ROLE):
        token = clients.credential().get_token(f"{cloud.logs_endpoint}/.default").token
    found = token_principal(token)
    if found is None:
        raise TransientError("The function's token names no object ID (oid): the audit trail confirms nothing.")
    return found


def lookback(created_on: datetime, min_interval: timedelta) -> datetime:
    """Where the query starts: a cool-down before the version was written, for the last version read before it."""
    return created_on - max(min_interval, timedelta(days=1))

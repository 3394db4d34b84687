"""The queue service is Azurite itself; the stand-in only relays each call (the blob relay's
``forward``), so queue calls show in the request log and take injected faults."""

from __future__ import annotations

from localazure.services.base import Url
from localazure.services.blob.responses import forward
from localazure.wire import Request


def operation(request: Request) -> str:
    """``queue.<operation>``, as Queue Storage's REST API names them: ``queue.put`` (Put Message),
    ``queue.get`` (Get Messages), ``queue.delete`` (Delete Message), ``queue.update`` (Update Message),
    ``queue.peek``, ``queue.clear``, ``queue.metadata`` (Get Queue Metadata), ``queue.create``."""
    parts = request.path.strip("/").split("/")  # account, queue, "messages", message id
    if len(parts) >= 3 and parts[2] == "messages":
        if len(parts) > 3:
            return {"DELETE": "queue.delete", "PUT": "queue.update"}.get(request.method, "queue.message")
        if request.method == "GET":
            return "queue.peek" if request.query.get("peekonly") == "true" else "queue.get"
        return {"POST": "queue.put", "DELETE": "queue.clear"}.get(request.method, "queue.messages")
    comp = request.query.get("comp")
    if comp:
        return f"queue.{comp}"
    return {"PUT": "queue.create", "DELETE": "queue.remove"}.get(request.method, f"queue.{request.method.lower()}")


URLS = (Url("queue", "*", r"/.*", forward, names=operation),)

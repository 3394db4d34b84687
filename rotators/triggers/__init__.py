"""How work arrives: the Functions triggers (Event Grid, HTTP, timer) and the command line.

Each trigger parses its input, calls a workflow and maps the outcome and its errors to
what its caller understands. Nothing here imports an Azure SDK: the host imports these
modules on every cold start, so they import the workflows on their first invocation.
"""

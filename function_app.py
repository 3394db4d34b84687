"""The Functions entry points. Kept to decorators: the host imports this on every cold start."""

import azure.functions as func

from rotators.adapters.queues import SECRETS, VAULTS
from rotators.triggers import event_grid, http, queue, timer

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.function_name("RotateOnSecretEvent")
@app.event_grid_trigger(arg_name="event")
def rotate_on_secret_event(event: func.EventGridEvent) -> None:
    event_grid.on_secret_event(event)


@app.function_name("RotateSecret")
@app.route(route="rotate", methods=[func.HttpMethod.POST])
def rotate_secret(req: func.HttpRequest) -> func.HttpResponse:
    return http.on_rotate_request(req)


@app.function_name("RollbackSecret")
@app.route(route="rollback", methods=[func.HttpMethod.POST])
def rollback_secret(req: func.HttpRequest) -> func.HttpResponse:
    return http.on_rollback_request(req)


@app.function_name("SweepVaults")
@app.timer_trigger(arg_name="schedule", schedule="%ROTATION_SWEEP_SCHEDULE%", run_on_startup=False)
def sweep_vaults(schedule: func.TimerRequest) -> None:
    timer.on_sweep()


@app.function_name("SweepVault")
@app.queue_trigger(arg_name="message", queue_name=VAULTS, connection="AzureWebJobsStorage")
def sweep_vault(message: func.QueueMessage) -> None:
    queue.on_vault_message(message)


@app.function_name("SweepSecret")
@app.queue_trigger(arg_name="message", queue_name=SECRETS, connection="AzureWebJobsStorage")
def sweep_secret(message: func.QueueMessage) -> None:
    queue.on_secret_message(message)

from localazure.services.arm.models import RG
from localazure.services.base import Url
from localazure.services.cosmosdb import responses

_ACCOUNT = RG + r"/providers/Microsoft\.DocumentDB/databaseAccounts/(?P<name>[^/]+)"
_STATUS = r"/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.DocumentDB/locations/(?P<loc>[^/]+)"

URLS = (
    Url("cosmos.get_account", "GET", _ACCOUNT, responses.get_account),
    Url("cosmos.list_keys", "POST", _ACCOUNT + "/listKeys", responses.list_keys),
    Url("cosmos.readonly_keys", "POST", _ACCOUNT + "/readonlykeys", responses.readonly_keys),
    Url(
        "cosmos.list_connection_strings", "POST", _ACCOUNT + "/listConnectionStrings", responses.list_connection_strings
    ),
    Url("cosmos.regenerate_key", "POST", _ACCOUNT + "/regenerateKey", responses.regenerate_key, writes=True),
    Url("cosmos.operation_status", "GET", _STATUS + r"/operationsStatus/(?P<id>[^/]+)", responses.operation_status),
    Url(
        "cosmos.operation_result",
        "GET",
        _ACCOUNT + r"/regenerateKey/operationResults/(?P<id>[^/]+)",
        responses.operation_result,
    ),
)

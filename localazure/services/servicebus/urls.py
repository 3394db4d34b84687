from localazure.services.arm.models import RG
from localazure.services.base import Url
from localazure.services.servicebus import responses

_NAMESPACE = RG + r"/providers/Microsoft\.ServiceBus/namespaces/(?P<name>[^/]+)"
_RULE = _NAMESPACE + r"(?:/(?:queues|topics)/[^/]+)?/authorizationRules/(?P<rule>[^/]+)"

URLS = (
    Url("servicebus.get_namespace", "GET", _NAMESPACE, responses.get_namespace),
    Url("servicebus.list_keys", "POST", _RULE + "/listKeys", responses.list_keys),
    Url("servicebus.regenerate_keys", "POST", _RULE + "/regenerateKeys", responses.regenerate_keys, writes=True),
)

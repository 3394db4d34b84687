from localazure.services.arm.models import RG
from localazure.services.base import Url
from localazure.services.servicebus import responses


def sas_urls(service: str, provider: str, entities: str, *, namespace_get: bool = True) -> tuple[Url, ...]:
    """The namespace GET (where the product reads the namespace) and its rules' key operations, for a
    provider of the Service Bus family."""
    namespace = RG + rf"/providers/{provider}/namespaces/(?P<name>[^/]+)"
    rule = namespace + rf"(?:/(?:{entities})/[^/]+)?/authorizationRules/(?P<rule>[^/]+)"
    get = (Url(f"{service}.get_namespace", "GET", namespace, responses.get_namespace),) if namespace_get else ()
    return (
        *get,
        Url(f"{service}.list_keys", "POST", rule + "/listKeys", responses.list_keys),
        Url(f"{service}.regenerate_keys", "POST", rule + "/regenerateKeys", responses.regenerate_keys, writes=True),
    )


URLS = sas_urls("servicebus", r"Microsoft\.ServiceBus", "queues|topics")

from localazure.services.appconfiguration import responses
from localazure.services.arm.models import RG
from localazure.services.base import Url

_STORE = RG + r"/providers/Microsoft\.AppConfiguration/configurationStores/(?P<name>[^/]+)"

URLS = (
    Url("appconfiguration.get", "GET", _STORE, responses.get_store),
    Url("appconfiguration.list_keys", "POST", _STORE + "/listKeys", responses.list_keys),
    Url("appconfiguration.regenerate_key", "POST", _STORE + "/regenerateKey", responses.regenerate_key, writes=True),
)

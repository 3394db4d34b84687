from localazure.services.arm.models import RG
from localazure.services.base import Url
from localazure.services.storage import responses

_ACCOUNT = RG + r"/providers/Microsoft\.Storage/storageAccounts/(?P<name>[^/]+)"

URLS = (
    Url("storage.get_account", "GET", _ACCOUNT, responses.get_account),
    Url("storage.list_keys", "POST", _ACCOUNT + "/listKeys", responses.list_keys),
    Url("storage.regenerate_key", "POST", _ACCOUNT + "/regenerateKey", responses.regenerate_key, writes=True),
)

from localazure.services.base import Url
from localazure.services.keyvault import responses

_NAME = r"/secrets/(?P<name>[^/]+)"
_VERSION = _NAME + r"(?:/(?P<version>[^/]*))?/?"

URLS = (
    Url("keyvault.list_secrets", "GET", r"/secrets/?", responses.list_secrets),
    Url("keyvault.list_versions", "GET", _NAME + r"/versions/?", responses.list_versions),
    Url("keyvault.get_secret", "GET", _VERSION, responses.get_secret),
    Url("keyvault.set_secret", "PUT", _NAME + r"/?", responses.set_secret, writes=True),
    Url("keyvault.update_secret", "PATCH", _VERSION, responses.update_secret, writes=True),
)

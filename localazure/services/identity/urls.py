from localazure.services.base import Url
from localazure.services.identity import responses

URLS = (Url("identity.token", "GET", r"/msi/token", responses.token),)

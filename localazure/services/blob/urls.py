from localazure.services.base import Url
from localazure.services.blob import responses

URLS = (Url("blob", "*", r"/.*", responses.forward, names=responses.operation),)

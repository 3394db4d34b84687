from localazure.services.base import Url
from localazure.services.graph import login, responses

# An application by object ID or by client ID, the two forms application-get documents; the quotes may
# arrive percent-encoded.
_APPLICATION = r"/v1\.0/applications(?:/(?P<id>[^/()]+)|\(appId=(?:'|%27)(?P<app_id>[^'%/]*)(?:'|%27)\))"

GRAPH_URLS = (
    Url("graph.get_application", "GET", _APPLICATION + "/?", responses.get_application),
    Url("graph.add_password", "POST", _APPLICATION + "/addPassword", responses.add_password, writes=True),
    Url("graph.remove_password", "POST", _APPLICATION + "/removePassword", responses.remove_password, writes=True),
)

LOGIN_URLS = (
    Url(
        "login.openid_configuration",
        "GET",
        r"/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration",
        login.openid_configuration,
    ),
    Url("login.instance_discovery", "GET", r"/common/discovery/instance", login.instance_discovery),
    Url("login.token", "POST", r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token", login.token),
)

from localazure.services.base import Url
from localazure.services.graph import grants, login, responses

# An application by object ID or by client ID, the two forms application-get documents; the quotes may
# arrive percent-encoded.
_APPLICATION = r"/v1\.0/applications(?:/(?P<id>[^/()]+)|\(appId=(?:'|%27)(?P<app_id>[^'%/]*)(?:'|%27)\))"

# Microsoft Graph's service principal by its appId, and a service principal's app role assignments (learn
# graph/api/serviceprincipal-get, serviceprincipal-post-approleassignments).
_SERVICE_PRINCIPAL_BY_APP_ID = r"/v1\.0/servicePrincipals\(appId=(?:'|%27)(?P<app_id>[^'%/]*)(?:'|%27)\)"
_ASSIGNMENTS = r"/v1\.0/servicePrincipals/(?P<sp>[^/()]+)/appRoleAssignments"

GRAPH_URLS = (
    Url("graph.get_application", "GET", _APPLICATION + "/?", responses.get_application),
    Url("graph.add_password", "POST", _APPLICATION + "/addPassword", responses.add_password, writes=True),
    Url("graph.remove_password", "POST", _APPLICATION + "/removePassword", responses.remove_password, writes=True),
    Url("graph.list_owners", "GET", r"/v1\.0/applications/(?P<id>[^/()]+)/owners/?", grants.list_owners),
    Url("graph.add_owner", "POST", r"/v1\.0/applications/(?P<id>[^/()]+)/owners/\$ref", grants.add_owner, writes=True),
    Url("graph.get_service_principal", "GET", _SERVICE_PRINCIPAL_BY_APP_ID + "/?", grants.get_service_principal),
    Url("graph.list_app_role_assignments", "GET", _ASSIGNMENTS + "/?", grants.list_app_role_assignments),
    Url("graph.assign_app_role", "POST", _ASSIGNMENTS + "/?", grants.assign_app_role, writes=True),
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

from localazure.services.servicebus.urls import sas_urls

URLS = sas_urls("eventhubs", r"Microsoft\.EventHub", "eventhubs")

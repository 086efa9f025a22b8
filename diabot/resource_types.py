"""The ten kinds of resources members exchange, from the DIA documents (../shared/seeds): one
list for the whole bot, so a profile's offers (members), a request's type (exchange) and the
working document's columns (digest) name them the same way."""

RESOURCES = (
    "knowledge",
    "experience",
    "people",
    "facilities",
    "networks",
    "processes",
    "data",
    "reputation",
    "finance",
    "training",
)

"""A local stand-in for the Azure endpoints the rotation app calls, for tests and the demo."""

from localazure.azurite import Azurite
from localazure.server import LocalAzure

__all__ = ["Azurite", "LocalAzure"]

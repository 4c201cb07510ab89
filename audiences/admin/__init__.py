"""The audiences admin; importing a module registers its pages with the site."""

from .contacts import ContactAdmin
from .events import ContactEventAdmin
from .groups import AudienceGroupAdmin
from .imports import ImportJobAdmin
from .suppression import SuppressionAdmin
from .variables import VariableAdmin

__all__ = [
    "AudienceGroupAdmin",
    "ContactAdmin",
    "ContactEventAdmin",
    "ImportJobAdmin",
    "SuppressionAdmin",
    "VariableAdmin",
]

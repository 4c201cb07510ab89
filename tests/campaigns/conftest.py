"""Fixtures of the campaign tests: the targeting tests' audience, and a recording
provider."""

from tests.campaigns.test_targeting import audience  # noqa: F401 (a fixture)
from tests.messaging.conftest import provider  # noqa: F401 (a fixture)

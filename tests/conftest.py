"""Test configuration: the hypothesis profile comes from CROSSCHECK_PROFILE.

CROSSCHECK_PROFILE=crosscheck-dev (default), crosscheck-ci or crosscheck-thorough.
"""

import os

from hypothesis import settings

from crosscheck.profiles import register_profiles

register_profiles()
settings.load_profile(os.environ.get("CROSSCHECK_PROFILE", "crosscheck-dev"))

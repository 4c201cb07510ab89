"""Sign-in settings: which proxies are trusted for the client's address, and the
lockouts of django-axes (read by config.settings)."""

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from config.environment import env_int

# Proxies in front of Django that append the address they were reached from to
# X-Forwarded-For (the README's TLS proxy: 1). The client's address is the entry the
# nearest of them wrote (base.client_address); with 0 the header is not read at all.
# Set it only when Django cannot be reached but through those proxies.
FLOWCAST_TRUSTED_PROXIES = env_int("FLOWCAST_TRUSTED_PROXIES", 0)
if FLOWCAST_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured(
        f"FLOWCAST_TRUSTED_PROXIES must be 0 or more, got {FLOWCAST_TRUSTED_PROXIES}"
    )
# Login throttling (django-axes), two separate counts: after AXES_FAILURE_LIMIT failed
# sign-ins for one user name (from anywhere), that user name is locked out for
# AXES_COOLOFF_MINUTES; after as many from one address (whatever the user names), that
# address is. A success clears neither: axes would clear every count of the address
# and of the user name, so anyone with an account of their own could sign in between
# guesses at another's password and never be stopped.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "base.client_address.client_address"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

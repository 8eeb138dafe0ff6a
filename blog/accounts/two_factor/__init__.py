"""Two-factor sign-in: authenticator-app codes (TOTP) and recovery codes, with django-otp's devices."""

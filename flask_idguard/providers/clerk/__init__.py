"""Clerk session authentication, faithful to ``@clerk/backend``'s ``authenticateRequest``."""

from .provider import ClerkProvider

__all__ = ["ClerkProvider"]

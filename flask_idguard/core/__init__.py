"""The verification core: JOSE, key sets, outbound HTTP, URL rules, caches and DPoP.

Nothing here imports Flask or Werkzeug (a test holds this): the core works on strings, bytes,
mappings and joserfc keys, so it can be reasoned about and tested without a request.
"""

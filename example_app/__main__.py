"""``python -m example_app``: the example app on the testing issuer, offline.

Starts a :class:`~flask_idguard.testing.TestIssuer` on loopback, configures the app
with its issuer URL and an audience, prints tokens to try, and serves the app.
"""

from __future__ import annotations

import argparse
import os

from flask_idguard.testing import TestIssuer

from . import create_app

AUDIENCE = "https://example-api.test"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    args = parser.parse_args()

    issuer = TestIssuer(audience=AUDIENCE)
    with issuer.serve():
        app = create_app({"IDGUARD_ISSUER": issuer.issuer, "IDGUARD_AUDIENCE": AUDIENCE})
        reader = issuer.token({"scope": "read:messages"}, expires_in=3600)
        admin = issuer.token(
            {"scope": "read:messages", "permissions": ["admin:write"]}, expires_in=3600
        )
        base = f"http://{args.host}:{args.port}"
        print(f"Testing issuer at {issuer.issuer}; the app trusts it for audience {AUDIENCE}.")
        print("Paste these into another shell (tokens valid for one hour):")
        print(f"  export READER={reader}")
        print(f"  export ADMIN={admin}")
        print(f"  curl {base}/api/me                                   # 401, no token")
        print(f'  curl -H "Authorization: Bearer $READER" {base}/api/me')
        print(f'  curl -H "Authorization: Bearer $READER" {base}/api/messages')
        print(f'  curl -X POST -H "Authorization: Bearer $READER" {base}/api/admin   # 403')
        print(f'  curl -X POST -H "Authorization: Bearer $ADMIN" {base}/api/admin')
        app.run(host=args.host, port=args.port)


if __name__ == "__main__":
    main()

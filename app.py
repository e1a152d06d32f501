#!/usr/bin/env python3
"""CDK entry point (cdk.json runs `python3 app.py`). Choose with -c env=dev|prod, -c mode=distributed|all-in-one,
-c api_runtime=apprunner|ecs. See docs/deploy.md."""

from cdk_app.app import build_app

build_app().app.synth()

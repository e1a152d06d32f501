"""`python -m service` entry point; see service.cli for the commands."""

import sys

from service.cli import main

sys.exit(main())

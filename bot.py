#!/usr/bin/env python3
"""Entry point: `python bot.py run -c config/diabot.yaml` (same as `diabot run`)."""

import sys

from diabot.cli import main

if __name__ == "__main__":
    sys.exit(main())

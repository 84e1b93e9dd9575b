"""`python -m backend.cli`: the `changxiang` command."""

import sys

from backend.cli import main

sys.exit(main())

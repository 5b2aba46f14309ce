"""`python -m kb_service.cli ...`: the same as the `kb-service` console script."""

import sys

from kb_service.cli import main

sys.exit(main())

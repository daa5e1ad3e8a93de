"""``python -m kframe`` runs the command line."""

import sys

from kframe.cli import main

sys.exit(main())

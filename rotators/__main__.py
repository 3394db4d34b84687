import sys

from rotators.triggers.cli import main

sys.exit(main())

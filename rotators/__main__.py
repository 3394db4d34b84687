import sys

from rotators.cli import main

sys.exit(main())

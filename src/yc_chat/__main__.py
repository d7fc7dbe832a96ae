"""`python -m yc_chat`: the same as the `yc-chat` command."""

import sys

from yc_chat.entrypoints.cli import main

sys.exit(main())

"""`python -m fazhizhen.simulate`: the same as `fazhizhen simulate`."""

import sys

from fazhizhen.simulate.cli import main

sys.exit(main())

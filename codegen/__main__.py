import sys

from codegen.tools.cli import main

sys.exit(main())

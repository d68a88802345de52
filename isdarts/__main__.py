from isdarts.cli import main

raise SystemExit(main())

from tsunagaru.cli import main

raise SystemExit(main())

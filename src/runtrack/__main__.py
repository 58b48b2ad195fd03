from runtrack.cli import main

main()

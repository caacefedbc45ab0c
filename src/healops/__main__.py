from healops.cli import main

main()

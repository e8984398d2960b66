from nodewise_cli.cli import main

main()

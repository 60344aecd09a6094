"""`python -m app.cli`: the propdesk command without its console script."""
from app.cli import main

main()

"""`make run`: python -m devstack (devstack/stack.py says what it starts)."""

from devstack.stack import main

main()

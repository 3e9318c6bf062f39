#!/usr/bin/env python
from jiepai.cli import main

if __name__ == "__main__":
    main()

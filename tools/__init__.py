"""Project tooling that is neither the product nor its tests (lint contracts)."""

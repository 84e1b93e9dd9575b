"""Occupancy: gate counts, walk-ins, comfort levels, entry refusal and same-day sales stop (a core room)."""

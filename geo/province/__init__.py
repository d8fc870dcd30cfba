"""A province of cities: generated samples per city and coverage runs partitioned by city."""
